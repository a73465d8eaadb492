"""English and French strings of the portal; the language is kept in the ``lang`` cookie."""

from __future__ import annotations

LANGUAGES = ("en", "fr")
STRINGS: dict[str, dict[str, str]] = {
    "services": {"en": "Services", "fr": "Services"},
    "my_jobs": {"en": "My jobs", "fr": "Mes traitements"},
    "account": {"en": "My account", "fr": "Mon compte"},
    "access": {"en": "Access", "fr": "Accès"},
    "token": {"en": "API token", "fr": "Jeton d'API"},
    "token_help": {
        "en": "Your API token (kept in this browser only)",
        "fr": "Votre jeton d'API (gardé dans ce navigateur seulement)",
    },
    "basic": {"en": "Basic", "fr": "Simple"},
    "expert": {"en": "Expert", "fr": "Expert"},
    "stages": {"en": "Stages", "fr": "Étapes"},
    "estimate": {"en": "Estimate the cost", "fr": "Estimer le coût"},
    "submit": {"en": "Submit", "fr": "Soumettre"},
    "zone_help": {
        "en": "Draw the zone: click its corners on the map, double-click to close; "
        "or upload a GeoJSON file.",
        "fr": "Dessinez la zone : cliquez ses sommets sur la carte, double-cliquez pour "
        "la fermer ; ou déposez un fichier GeoJSON.",
    },
    "credit": {"en": "Credit", "fr": "Crédit"},
    "state": {"en": "State", "fr": "État"},
    "stage": {"en": "Stage", "fr": "Étape"},
    "progress": {"en": "Progress", "fr": "Avancement"},
    "cpu": {"en": "CPU·s used", "fr": "CPU·s utilisées"},
    "purge": {"en": "Kept until", "fr": "Conservé jusqu'au"},
    "logs": {"en": "Logs", "fr": "Journal"},
    "results_link": {"en": "Results", "fr": "Résultats"},
    "cancel": {"en": "Cancel", "fr": "Annuler"},
    "statistics": {"en": "Job statistics", "fr": "Statistiques des traitements"},
    "service": {"en": "Service", "fr": "Service"},
    "jobs": {"en": "Jobs", "fr": "Traitements"},
    "users": {"en": "Users", "fr": "Utilisateurs"},
    "success_rate": {"en": "Success rate", "fr": "Taux de succès"},
    "search": {"en": "Search", "fr": "Rechercher"},
    "catalogue": {"en": "Catalogue", "fr": "Catalogue"},
    "compare": {"en": "Compare", "fr": "Comparer"},
    "insitu": {"en": "In-situ", "fr": "In situ"},
    "text": {"en": "Text", "fr": "Texte"},
    "from": {"en": "From", "fr": "Du"},
    "to": {"en": "To", "fr": "Au"},
    "collection": {"en": "Collection", "fr": "Collection"},
    "collections": {"en": "Collections", "fr": "Collections"},
    "platform": {"en": "Platform", "fr": "Plateforme"},
    "cloud_max": {"en": "Max. cloud cover (%)", "fr": "Couverture nuageuse max. (%)"},
    "use_map_view": {"en": "Search in map view", "fr": "Chercher dans la vue"},
    "clear_bbox": {"en": "Anywhere", "fr": "Partout"},
    "results": {"en": "results", "fr": "résultats"},
    "no_results": {"en": "No product matches.", "fr": "Aucun produit ne correspond."},
    "next": {"en": "Next page", "fr": "Page suivante"},
    "cloud": {"en": "Cloud cover", "fr": "Nuages"},
    "date": {"en": "Date", "fr": "Date"},
    "assets": {"en": "Files", "fr": "Fichiers"},
    "size": {"en": "Size", "fr": "Taille"},
    "download": {"en": "Download", "fr": "Télécharger"},
    "download_all": {"en": "Download all (zip)", "fr": "Tout télécharger (zip)"},
    "metadata": {"en": "Metadata", "fr": "Métadonnées"},
    "rendering": {"en": "Rendering", "fr": "Rendu"},
    "in_qgis": {"en": "Use in QGIS", "fr": "Utiliser dans QGIS"},
    "wms_help": {
        "en": "Layer > Add WMS layer, with this URL:",
        "fr": "Couche > Ajouter une couche WMS, avec cette URL :",
    },
    "xyz_help": {
        "en": "XYZ Tiles > New connection, with this URL:",
        "fr": "Tuiles XYZ > Nouvelle connexion, avec cette URL :",
    },
    "stac_help": {
        "en": "STAC item (QGIS STAC browser, pystac-client):",
        "fr": "Item STAC (navigateur STAC de QGIS, pystac-client) :",
    },
    "licence": {"en": "Licence", "fr": "Licence"},
    "providers": {"en": "Providers", "fr": "Fournisseurs"},
    "citation": {"en": "Citation / DOI", "fr": "Citation / DOI"},
    "extent": {"en": "Extent", "fr": "Emprise"},
    "products": {"en": "Products", "fr": "Produits"},
    "latest": {"en": "Latest products", "fr": "Derniers produits"},
    "per_year": {"en": "Products per month", "fr": "Produits par mois"},
    "left": {"en": "Left", "fr": "Gauche"},
    "right": {"en": "Right", "fr": "Droite"},
    "opacity": {"en": "Opacity of the right product", "fr": "Opacité du produit de droite"},
    "swipe": {"en": "Swipe", "fr": "Rideau"},
    "language": {"en": "Français", "fr": "English"},
    "none": {"en": "not given", "fr": "non renseigné"},
    "timeline": {"en": "Acquisitions (date × cloud cover)", "fr": "Acquisitions (date × nuages)"},
    "timeline_help": {
        "en": "Each dot is a product: its date, and its cloud cover (%) upwards; products "
        "without a cloud cover are hollow grey rings on the bottom line (“none”), not at 0 %. "
        "Click one to open it.",
        "fr": "Chaque point est un produit : sa date, et sa couverture nuageuse (%) en hauteur ; "
        "les produits sans couverture nuageuse sont des anneaux gris sur la ligne du bas "
        "(« aucune »), pas à 0 %. Cliquez-en un pour l'ouvrir.",
    },
    "timeline_pick_help": {
        "en": "Each dot is a product of the collection over the left one: its date, and its cloud "
        "cover (%) upwards; products without a cloud cover are hollow grey rings on the bottom "
        "line (“none”). Click one to show it on the chosen side.",
        "fr": "Chaque point est un produit de la collection sur celui de gauche : sa date, et sa "
        "couverture nuageuse (%) en hauteur ; les produits sans couverture nuageuse sont des "
        "anneaux gris sur la ligne du bas (« aucune »). Cliquez-en un pour l'afficher du côté "
        "choisi.",
    },
    "no_cover_axis": {"en": "none", "fr": "aucune"},
    "pick_for": {
        "en": "A date clicked on the timeline goes to",
        "fr": "Une date cliquée sur la frise va à",
    },
    "pixel_series": {"en": "Time series of a pixel", "fr": "Série temporelle d'un pixel"},
    "series_of": {"en": "Values of", "fr": "Valeurs de"},
    "series_help": {
        "en": "Click the map: the values at that point over every date of the collection.",
        "fr": "Cliquez sur la carte : les valeurs en ce point à toutes les dates de la collection.",
    },
    "clear_sky": {"en": "clear", "fr": "dégagé"},
    "dates": {"en": "dates", "fr": "dates"},
    "cloudy": {"en": "cloudy", "fr": "nuageux"},
    "find_items": {"en": "Find on the map", "fr": "Chercher sur la carte"},
    "find_help": {
        "en": "Products of the collection in the map's view, between these dates, with at most "
        "this cloud cover:",
        "fr": "Produits de la collection dans la vue de la carte, entre ces dates, avec au plus "
        "cette couverture nuageuse :",
    },
    "no_items": {"en": "No product there.", "fr": "Aucun produit ici."},
    "choose": {"en": "Choose", "fr": "Choisir"},
}


def translate(table: dict[str, dict[str, str]], lang: str) -> dict[str, str]:
    """Every string of ``table`` in ``lang`` (English for an unknown code)."""
    lang = lang if lang in LANGUAGES else "en"
    return {key: texts[lang] for key, texts in table.items()}


def translator(lang: str) -> dict[str, str]:
    """The portal's strings in ``lang`` (English for an unknown code)."""
    return translate(STRINGS, lang)
