"""Connectors to live and official data: PxWeb / JSON-stat statistics and PX files
(``jsonstat``, ``pxweb``, ``px``) harvested into catalogue datasets (``harvest``), other CKAN
portals (``ckan_harvest``) and SensorThings servers (``sta_harvest``); saved, scheduled harvest
sources with their run log and dead letters (``sources``, ``schedule``, ``scheduler``); and
the `bylab harvest` CLI."""
