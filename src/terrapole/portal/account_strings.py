"""English and French strings of the account, entity, licence and order pages (merged with
:mod:`terrapole.portal.i18n`'s by :func:`account_translator`)."""

from __future__ import annotations

from terrapole.portal.i18n import LANGUAGES, translator

STRINGS: dict[str, dict[str, str]] = {
    "sign_up": {"en": "Sign up", "fr": "Créer un compte"},
    "log_in": {"en": "Log in", "fr": "Se connecter"},
    "log_out": {"en": "Log out", "fr": "Se déconnecter"},
    "email": {"en": "E-mail address", "fr": "Adresse électronique"},
    "password": {"en": "Password", "fr": "Mot de passe"},
    "password_help": {
        "en": "At least 12 characters; not a common password, not your address.",
        "fr": "Au moins 12 caractères ; ni un mot de passe courant, ni votre adresse.",
    },
    "display_name": {"en": "Name", "fr": "Nom"},
    "signed_up": {
        "en": "Account created. We mailed you a link: open it to verify your address.",
        "fr": "Compte créé. Nous vous avons envoyé un lien : ouvrez-le pour vérifier votre "
        "adresse.",
    },
    "verify_title": {"en": "Verify your address", "fr": "Vérifier votre adresse"},
    "verify_confirm": {"en": "Verify my address", "fr": "Vérifier mon adresse"},
    "verified": {
        "en": "Your address is verified: you can log in.",
        "fr": "Votre adresse est vérifiée : vous pouvez vous connecter.",
    },
    "forgot": {"en": "Forgot your password?", "fr": "Mot de passe oublié ?"},
    "reset_title": {"en": "Reset your password", "fr": "Réinitialiser le mot de passe"},
    "reset_send": {"en": "Mail me a reset link", "fr": "M'envoyer un lien"},
    "reset_sent": {
        "en": "If this address has an account, a reset link was mailed to it.",
        "fr": "Si cette adresse a un compte, un lien lui a été envoyé.",
    },
    "new_password": {"en": "New password", "fr": "Nouveau mot de passe"},
    "reset_done": {
        "en": "Your password is changed; every session was closed. Log in again.",
        "fr": "Mot de passe changé ; toutes les sessions ont été fermées. Reconnectez-vous.",
    },
    "profile": {"en": "My account", "fr": "Mon compte"},
    "roles": {"en": "Roles", "fr": "Rôles"},
    "my_entities": {"en": "My entities", "fr": "Mes entités"},
    "referent": {"en": "referent", "fr": "référent"},
    "tokens": {"en": "API tokens", "fr": "Jetons d'API"},
    "token_label": {"en": "Label", "fr": "Libellé"},
    "new_token": {"en": "New token", "fr": "Nouveau jeton"},
    "token_once": {
        "en": "Copy this token now: it is shown only once.",
        "fr": "Copiez ce jeton maintenant : il n'est affiché qu'une fois.",
    },
    "revoke": {"en": "Revoke", "fr": "Révoquer"},
    "new_entity": {"en": "Create an entity", "fr": "Créer une entité"},
    "entity_name": {"en": "Name of the entity", "fr": "Nom de l'entité"},
    "country": {"en": "Country (ISO code)", "fr": "Pays (code ISO)"},
    "entity_kind": {"en": "Kind", "fr": "Nature"},
    "entity_profile": {"en": "Profile", "fr": "Profil"},
    "siren": {"en": "SIREN (optional)", "fr": "SIREN (facultatif)"},
    "ror": {"en": "ROR (optional)", "fr": "ROR (facultatif)"},
    "create": {"en": "Create", "fr": "Créer"},
    "join_entity": {"en": "Join an entity", "fr": "Rejoindre une entité"},
    "ask_to_join": {"en": "Ask to join", "fr": "Demander à rejoindre"},
    "entity": {"en": "Entity", "fr": "Entité"},
    "members": {"en": "Members", "fr": "Membres"},
    "requests": {"en": "Membership requests", "fr": "Demandes d'adhésion"},
    "no_requests": {"en": "No pending request.", "fr": "Aucune demande en attente."},
    "approve": {"en": "Approve", "fr": "Approuver"},
    "refuse": {"en": "Refuse", "fr": "Refuser"},
    "status": {"en": "Status", "fr": "Statut"},
    "your_request": {"en": "Your request", "fr": "Votre demande"},
    "period": {"en": "Quarter", "fr": "Trimestre"},
    "quota_left": {"en": "Quota left this quarter", "fr": "Quota restant ce trimestre"},
    "licences": {"en": "Licences", "fr": "Licences"},
    "licence_version": {"en": "version", "fr": "version"},
    "accept": {"en": "Accept", "fr": "Accepter"},
    "accept_for": {"en": "Accept for", "fr": "Accepter pour"},
    "myself": {"en": "myself", "fr": "moi-même"},
    "accepted": {"en": "Accepted", "fr": "Acceptée"},
    "to_accept": {"en": "To accept", "fr": "À accepter"},
    "orders": {"en": "Orders", "fr": "Commandes"},
    "new_order": {"en": "New order", "fr": "Nouvelle commande"},
    "order": {"en": "Order", "fr": "Commande"},
    "order_kind": {"en": "Kind of order", "fr": "Type de commande"},
    "archive": {"en": "Archive images", "fr": "Images d'archive"},
    "tasking": {"en": "New acquisition (tasking)", "fr": "Nouvelle acquisition (programmation)"},
    "family": {"en": "Sensor family", "fr": "Famille de capteurs"},
    "item_ids": {
        "en": "Product ids (one a line)",
        "fr": "Identifiants des produits (un par ligne)",
    },
    "aoi": {"en": "Area of interest", "fr": "Zone d'intérêt"},
    "start": {"en": "From", "fr": "Du"},
    "end": {"en": "To", "fr": "Au"},
    "mode": {"en": "Mode", "fr": "Mode"},
    "priority": {"en": "Priority", "fr": "Priorité"},
    "note": {"en": "Note", "fr": "Note"},
    "draft": {"en": "Save the draft", "fr": "Enregistrer le brouillon"},
    "quote": {"en": "Quote", "fr": "Devis"},
    "km2": {"en": "Area (km²)", "fr": "Surface (km²)"},
    "quota_used": {"en": "From the quota (km²)", "fr": "Sur le quota (km²)"},
    "overage": {"en": "Beyond the quota (km²)", "fr": "Au-delà du quota (km²)"},
    "price": {"en": "Price (€)", "fr": "Prix (€)"},
    "accept_price": {"en": "I accept to pay (€)", "fr": "J'accepte de payer (€)"},
    "submit_order": {"en": "Submit the order", "fr": "Soumettre la commande"},
    "history": {"en": "Status timeline", "fr": "Historique des états"},
    "move": {"en": "Move the order", "fr": "Faire avancer la commande"},
    "by": {"en": "by", "fr": "par"},
    "error": {"en": "Error", "fr": "Erreur"},
}


def account_translator(lang: str) -> dict[str, str]:
    """The portal's strings and the account pages' strings in ``lang``."""
    lang = lang if lang in LANGUAGES else "en"
    return {**translator(lang), **{key: texts[lang] for key, texts in STRINGS.items()}}
