"""The data catalogue: datasets with DCAT-AP metadata, versions, sharing, search and downloads."""
