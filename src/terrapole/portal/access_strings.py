"""English and French strings of the "Which access for my profile?" page."""

from __future__ import annotations

from terrapole.access.profiles import Profile
from terrapole.access.simulator import Condition

STRINGS: dict[str, dict[str, str]] = {
    "title": {"en": "Which access for my profile?", "fr": "Quels accès pour votre profil ?"},
    "intro": {
        "en": "Choose a profile: the page lists the collections it may read, the licences each "
        "asks, the free km² of this quarter, the prices beyond them and the conditions.",
        "fr": "Choisissez un profil : la page liste les collections accessibles, les licences "
        "que chacune demande, les km² gratuits du trimestre, les prix au-delà et les conditions.",
    },
    "profile": {"en": "Profile", "fr": "Profil"},
    "show": {"en": "Show", "fr": "Afficher"},
    "data": {"en": "Data", "fr": "Données"},
    "collection": {"en": "Collection", "fr": "Collection"},
    "eligible": {"en": "Eligible", "fr": "Éligible"},
    "licences": {"en": "Licences to accept", "fr": "Licences à accepter"},
    "yes": {"en": "yes", "fr": "oui"},
    "no": {"en": "no", "fr": "non"},
    "open": {"en": "open to all", "fr": "ouverte à tous"},
    "none": {"en": "none", "fr": "aucune"},
    "quotas": {"en": "Quotas and prices, quarter", "fr": "Quotas et prix, trimestre"},
    "family": {"en": "Sensor", "fr": "Capteur"},
    "quota": {"en": "Free km²", "fr": "km² gratuits"},
    "archive": {"en": "Archive beyond the quota", "fr": "Archive au-delà du quota"},
    "tasking": {"en": "Tasking beyond the quota", "fr": "Programmation au-delà du quota"},
    "packages": {"en": "Packages", "fr": "Forfaits"},
    "per_km2": {"en": "€/km²", "fr": "€/km²"},
    "not_sold": {"en": "not offered", "fr": "non proposé"},
    "conditions": {"en": "Conditions", "fr": "Conditions"},
}

PROFILES: dict[Profile, dict[str, str]] = {
    Profile.FRENCH_SCIENTIST: {"en": "French scientist", "fr": "Scientifique français"},
    Profile.FOREIGN_SCIENTIST: {
        "en": "Foreign scientist (under conditions)",
        "fr": "Scientifique étranger (sous conditions)",
    },
    Profile.FRENCH_PUBLIC_ACTOR: {"en": "French public actor", "fr": "Acteur public français"},
    Profile.FRENCH_PRIVATE_RD: {
        "en": "French private actor in R&D (under conditions)",
        "fr": "Acteur privé français en R&D (sous conditions)",
    },
    Profile.TEACHING: {"en": "Teaching", "fr": "Enseignement"},
}

CONDITIONS: dict[Condition, dict[str, str]] = {
    Condition.CATALOGUE_FREE: {
        "en": "Browsing and downloading the catalogue is free.",
        "fr": "La consultation et le téléchargement du catalogue sont gratuits.",
    },
    Condition.FOREIGN_UNDER_CONDITIONS: {
        "en": "Foreign scientists are served under conditions: European laboratories, "
        "depending on the data and on the entity.",
        "fr": "Les scientifiques étrangers sont servis sous conditions : laboratoires "
        "européens, selon la nature de la donnée et de l'entité.",
    },
    Condition.PRIVATE_RD_ONLY: {
        "en": "French private actors are served for R&D work only, under conditions.",
        "fr": "Les acteurs privés français sont servis dans un cadre R&D seulement, sous "
        "conditions.",
    },
    Condition.TASKING_MINIMUM: {
        "en": "A tasking request (new acquisition) covers at least {min} km².",
        "fr": "Une demande de programmation (nouvelle acquisition) couvre au moins {min} km².",
    },
    Condition.QUOTA_QUARTERLY: {
        "en": "Free quotas are revised each quarter.",
        "fr": "Les quotas gratuits sont révisés chaque trimestre.",
    },
    Condition.NO_FREE_QUOTA: {
        "en": "This profile has no free km² this quarter: every order is paid.",
        "fr": "Ce profil n'a pas de km² gratuits ce trimestre : toute commande est payante.",
    },
    Condition.NO_OVERAGE: {
        "en": "Where no price or package is offered, orders stop at the free quota.",
        "fr": "Sans prix ni forfait proposé, les commandes s'arrêtent au quota gratuit.",
    },
}
