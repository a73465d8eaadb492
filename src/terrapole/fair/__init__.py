"""FAIR publishing: metadata records (DataCite 4.5 + INSPIRE/OZCAR), their checks and FAIR
checklist, the curation workflow with identifiers (DataCite DOIs or local ones), and what is
built on them (landing pages, OAI-PMH, DCAT, thesauri, deposits, CES and calls for projects).
"""
