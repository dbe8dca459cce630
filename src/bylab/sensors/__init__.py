"""Live sensor data: the SensorThings data model, its columnar store, MQTT ingestion and the
OGC SensorThings API v1.1 read interface."""
