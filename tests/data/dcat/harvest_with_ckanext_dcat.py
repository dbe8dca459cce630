"""Parse a DCAT file with ckanext-dcat's RDFParser, as a CKAN DCAT harvester does, and print
the CKAN dataset dicts it makes, by profile, as JSON. Run it with the Python of the
environment that has ckanext-dcat installed (see README.md):

    python harvest_with_ckanext_dcat.py FILE RDFLIB_FORMAT PROFILE [PROFILE ...]"""

import json
import sys

from ckanext.dcat.processors import RDFParser

path, rdf_format, *profiles = sys.argv[1:]
with open(path, encoding="utf-8") as rdf_file:
    data = rdf_file.read()
datasets_by_profile = {}
for profile in profiles:
    parser = RDFParser(profiles=[profile])
    parser.parse(data, _format=rdf_format)
    datasets_by_profile[profile] = sorted(parser.datasets(), key=lambda item: item["title"])
print(json.dumps(datasets_by_profile, default=str))
