"""English and French strings of the observatory pages (map, station, dataset, producer)."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "observatories": {"en": "In-situ observatories", "fr": "Observatoires in situ"},
    "intro": {
        "en": "Stations of the observatories: filter them by variable, category, producer, "
        "period or text; click one to plot and download its series.",
        "fr": "Stations des observatoires : filtrez-les par variable, catégorie, producteur, "
        "période ou texte ; cliquez-en une pour tracer et télécharger ses séries.",
    },
    "filters": {"en": "Filters", "fr": "Filtres"},
    "observed_property": {"en": "Observed property", "fr": "Variable observée"},
    "category": {"en": "Category", "fr": "Catégorie"},
    "producer": {"en": "Producer", "fr": "Producteur"},
    "producers": {"en": "Producers", "fr": "Producteurs"},
    "dataset": {"en": "Dataset", "fr": "Jeu de données"},
    "datasets": {"en": "Datasets", "fr": "Jeux de données"},
    "any": {"en": "any", "fr": "toutes"},
    "period": {"en": "Period", "fr": "Période"},
    "from": {"en": "From", "fr": "Du"},
    "to": {"en": "To", "fr": "Au"},
    "text": {"en": "Text", "fr": "Texte"},
    "text_help": {"en": "name, code, dataset…", "fr": "nom, code, jeu de données…"},
    "apply": {"en": "Apply", "fr": "Appliquer"},
    "reset": {"en": "Reset", "fr": "Réinitialiser"},
    "in_view": {"en": "Only in the map view", "fr": "Seulement dans la vue"},
    "stations": {"en": "Stations", "fr": "Stations"},
    "station": {"en": "Station", "fr": "Station"},
    "no_station": {
        "en": "No station matches these filters.",
        "fr": "Aucune station ne correspond à ces filtres.",
    },
    "found": {"en": "stations", "fr": "stations"},
    "location": {"en": "Location", "fr": "Localisation"},
    "identifier": {"en": "Code", "fr": "Code"},
    "description": {"en": "Description", "fr": "Description"},
    "sensors": {"en": "Sensors", "fr": "Capteurs"},
    "variables": {"en": "Variables", "fr": "Variables"},
    "datastreams": {"en": "Series", "fr": "Séries"},
    "unit": {"en": "Unit", "fr": "Unité"},
    "observed": {"en": "Observed", "fr": "Observé"},
    "plot": {"en": "Plot", "fr": "Tracer"},
    "axis": {"en": "Axis", "fr": "Axe"},
    "left": {"en": "left", "fr": "gauche"},
    "right": {"en": "right", "fr": "droite"},
    "bars": {"en": "bars", "fr": "barres"},
    "chart": {"en": "Time series", "fr": "Séries temporelles"},
    "chart_help": {
        "en": "Drag across the chart to zoom in (the series are read again at that period); "
        "double-click to go back to the whole period.",
        "fr": "Glissez sur le graphique pour zoomer (les séries sont relues sur cette période) ; "
        "double-cliquez pour revenir à toute la période.",
    },
    "show": {"en": "Show", "fr": "Afficher"},
    "whole": {"en": "Whole period", "fr": "Toute la période"},
    "last_year": {"en": "Last year", "fr": "Dernière année"},
    "last_month": {"en": "Last month", "fr": "Dernier mois"},
    "csv": {"en": "Download CSV (shown period)", "fr": "Télécharger en CSV (période affichée)"},
    "decimated": {
        "en": "min/max per pixel (long period)",
        "fr": "min/max par pixel (longue période)",
    },
    "raw": {"en": "every observation", "fr": "toutes les observations"},
    "points": {"en": "points", "fr": "points"},
    "licence": {"en": "Licence", "fr": "Licence"},
    "doi": {"en": "DOI", "fr": "DOI"},
    "keywords": {"en": "Keywords", "fr": "Mots-clés"},
    "website": {"en": "Website", "fr": "Site web"},
    "none": {"en": "not given", "fr": "non renseigné"},
    "no_data": {
        "en": "No observation in this period.",
        "fr": "Aucune observation sur cette période.",
    },
    "loading": {"en": "Loading…", "fr": "Chargement…"},
    "map": {"en": "Map", "fr": "Carte"},
}
