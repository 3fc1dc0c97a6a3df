"""The vocabularies the rows are drawn from: names, posts, countries, referentials, weights.

Every country is its clean INSEE name (planted variants live with the plants, in
:mod:`ingestion.generator.specs`); weights are relative frequencies for :func:`table`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

NBSP = "\u00a0"
NNBSP = "\u202f"


def _words(text: str) -> tuple[str, ...]:
    """The words of ``text``, split on whitespace."""
    return tuple(text.split())


LAST_NAMES = tuple(
    n.replace("_", " ")
    for n in _words(
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
        "Lefèvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Mercier "
        "Dupont Lambert Bonnet François Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry "
        "Perrin Morin Mathieu Clément Gauthier Dumont Lopez Fontaine Chevalier Robin Masson Gérard "
        "Nguyen Boyer Lemaire Duval Joly Noël Meyer Lucas Meunier Pérez Marchand Dufour Blanchard "
        "Barbier Brunet Diallo Benali Le_Goff Traoré Haddad Da_Silva"
    )
)
FIRST_NAMES = _words(
    "Jean Marie Camille Léa Chloé Manon Inès Jade Louise Emma Lucas Hugo Théo Nathan Louis Gabriel "
    "Arthur Raphaël Jules Adam Nicolas Julien Sébastien Céline Isabelle Nathalie Sophie Hélène "
    "Françoise Stéphane Philippe Anne-Sophie Jean-Baptiste Élodie Gaëlle Maëlys Noémie Zoé Benoît "
    "Hervé Loïc Aurélien Mathilde Pauline Thibault Amélie Bérénice Joël Aïcha Karim"
)
# (post, INSEE name of the country, city, a street there, weight): real posts, clean INSEE names.
CONSULAR_POSTS = (
    ("Consulat général de France à Londres", "Royaume-Uni", "Londres", "Cromwell Road", 14),
    ("Consulat général de France à Genève", "Suisse", "Genève", "rue de Carouge", 13),
    ("Consulat général de France à Bruxelles", "Belgique", "Bruxelles", "chaussée d'Ixelles", 11),
    ("Consulat général de France à Montréal", "Canada", "Montréal", "rue Saint-Denis", 9),
    ("Consulat général de France à Québec", "Canada", "Québec", "Grande Allée Est", 3),
    ("Consulat général de France à New York", "États-Unis", "New York", "Lexington Avenue", 6),
    ("Consulat général de France à San Francisco", "États-Unis", "San Francisco",
     "Valencia Street", 4),
    ("Consulat général de France à Munich", "Allemagne", "Munich", "Leopoldstraße", 5),
    ("Consulat général de France à Barcelone", "Espagne", "Barcelone", "Carrer de Mallorca", 5),
    ("Ambassade de France au Luxembourg", "Luxembourg", "Luxembourg", "avenue de la Liberté", 4),
    ("Consulat général de France à Casablanca", "Maroc", "Casablanca", "boulevard Zerktouni", 5),
    ("Consulat général de France à Tunis", "Tunisie", "Tunis", "rue de Marseille", 3),
    ("Consulat général de France à Alger", "Algérie", "Alger", "rue Didouche-Mourad", 3),
    ("Consulat général de France à Dakar", "Sénégal", "Dakar", "route de la Corniche Ouest", 2),
    ("Consulat général de France à Abidjan", "Côte d’Ivoire", "Abidjan", "boulevard Latrille", 2),
    ("Consulat général de France à Beyrouth", "Liban", "Beyrouth", "rue Monot", 3),
    ("Consulat général de France à Dubaï", "Émirats arabes unis", "Dubaï", "Al Wasl Road", 3),
    ("Consulat général de France à Shanghai", "Chine", "Shanghai", "Huaihai Road", 2),
    ("Ambassade de France au Japon", "Japon", "Tokyo", "Omotesando", 2),
    ("Consulat général de France à Sydney", "Australie", "Sydney", "George Street", 2),
    ("Consulat général de France à São Paulo", "Brésil", "São Paulo", "Rua Augusta", 2),
    ("Consulat général de France à Pondichéry", "Inde", "Pondichéry", "rue Suffren", 1),
    ("Ambassade de France au Mali", "Mali", "Bamako", "avenue de l'Indépendance", 1),
)  # fmt: skip
# Latin-1 only (the adoptions file): no "Côte d’Ivoire" with its typographic apostrophe here.
ADOPTION_COUNTRIES = (
    ("Colombie", 9), ("Vietnam", 9), ("Haïti", 8), ("Thaïlande", 5), ("Madagascar", 5),
    ("Burkina", 5), ("Bulgarie", 4), ("Chine", 4), ("Russie", 5), ("Éthiopie", 6), ("Inde", 3),
    ("Philippines", 3), ("Corée du Sud", 2), ("Mali", 3), ("Togo", 2), ("Bénin", 2),
    ("Pérou", 3), ("Brésil", 3), ("Congo", 2), ("Cambodge", 3), ("Lettonie", 1), ("Chili", 2),
)  # fmt: skip
AGE_BANDS = (("0-2 ans", 30), ("3-5 ans", 35), ("6-10 ans", 25), ("11 ans et plus", 10))
PROCEDURES = (("OAA", 55), ("individuelle", 25), ("AFA", 20))
# Real working-holiday partners and a rough yearly volume; Hong Kong (a territory) and
# Nouvelle-Zélande only appear on planted lines, so their keys never collide with clean ones.
PVT_PARTNERS = (
    ("Argentine", 1400), ("Australie", 2600), ("Brésil", 450), ("Canada", 6500), ("Chili", 700),
    ("Colombie", 900), ("Corée du Sud", 650), ("Équateur", 120), ("Japon", 1500),
    ("Mexique", 800), ("Pérou", 300), ("Russie", 150), ("Taïwan", 550), ("Uruguay", 90),
)  # fmt: skip
ACT_TYPES = (
    ("transcription", 40), ("naissance", 25), ("mariage", 20), ("décès", 8),
    ("reconnaissance", 7),
)  # fmt: skip
# Posts whose civil-status software exports ISO dates (yyyy-MM-dd, the contract's 2nd format).
ISO_DATE_POSTS = frozenset(
    {"Consulat général de France à Montréal", "Consulat général de France à Québec"}
)
COLOURS = ("vert", "jaune", "orange", "rouge")
# (INSEE name, usual colour for the whole country). CIV, GBR, Kosovo and Groenland only appear on
# planted lines.
TRAVEL_COUNTRIES = (
    ("Mali", 3), ("Niger", 3), ("Burkina", 3), ("Afghanistan", 3), ("Syrie", 3), ("Yémen", 3),
    ("Somalie", 3), ("Soudan", 3), ("Libye", 3), ("Iran", 3), ("Ukraine", 3), ("Russie", 3),
    ("Haïti", 3), ("Irak", 2), ("Liban", 2), ("Israël", 2), ("Vénézuéla", 2), ("Cameroun", 2),
    ("Nigéria", 2), ("Tchad", 2), ("Pakistan", 2), ("Arménie", 2), ("Azerbaïdjan", 2),
    ("Éthiopie", 2), ("Mozambique", 2), ("Colombie", 1), ("Mexique", 1), ("Brésil", 1),
    ("Maroc", 1), ("Tunisie", 1), ("Algérie", 1), ("Égypte", 1), ("Sénégal", 1), ("Kenya", 1),
    ("Madagascar", 1), ("Inde", 1), ("Thaïlande", 1), ("Chine", 1), ("Turquie", 1),
    ("Géorgie", 1), ("Philippines", 1), ("Indonésie", 1), ("Pérou", 1), ("Bolivie", 1),
    ("Équateur", 1), ("Sri Lanka", 1), ("Népal", 1), ("Cuba", 1), ("Jordanie", 1),
    ("Arabie saoudite", 1), ("Vietnam", 0), ("Japon", 0), ("Canada", 0), ("États-Unis", 0),
    ("Allemagne", 0), ("Espagne", 0), ("Italie", 0), ("Suisse", 0), ("Australie", 0),
    ("Nouvelle-Zélande", 0), ("Argentine", 0), ("Chili", 0), ("Émirats arabes unis", 0),
    ("Belgique", 0), ("Portugal", 0), ("Grèce", 0),
)  # fmt: skip
ZONES = (
    "Ensemble du pays", "Capitale et agglomération", "Zones frontalières", "Nord du pays",
    "Sud du pays", "Zones côtières", "Zones rurales et isolées",
)  # fmt: skip
# (theme, OECD-DAC CRS purpose code).
AID_THEMES = (
    ("Appui à la scolarisation des filles", "11220"),
    ("Formation professionnelle des jeunes", "11330"),
    ("Enseignement supérieur et recherche", "11420"),
    ("Santé maternelle et infantile", "12220"),
    ("Lutte contre la malnutrition", "12240"),
    ("Accès à l'eau potable en milieu rural", "14030"),
    ("Assainissement urbain", "14022"),
    ("Modernisation de l'état civil", "15110"),
    ("Gouvernance locale et décentralisation", "15112"),
    ("Droits des femmes et égalité", "15170"),
    ("Consolidation de la paix", "15220"),
    ("Protection sociale", "16010"),
    ("Culture et patrimoine", "16061"),
    ("Soutien à l'agriculture familiale", "31120"),
    ("Appui aux petites et moyennes entreprises", "32130"),
    ("Électrification rurale solaire", "23230"),
    ("Adaptation au changement climatique", "41010"),
    ("Protection de la biodiversité", "41030"),
    ("Réponse humanitaire d'urgence", "72010"),
    ("Aide alimentaire d'urgence", "72040"),
)
AID_COUNTRIES = (
    ("Sénégal", 8), ("Mali", 5), ("Niger", 6), ("Burkina", 5), ("Côte d’Ivoire", 6),
    ("Madagascar", 5), ("Haïti", 4), ("Bénin", 4), ("Togo", 3), ("Guinée", 4), ("Tchad", 4),
    ("Cameroun", 4), ("Maroc", 3), ("Tunisie", 3), ("Liban", 3), ("Jordanie", 2),
    ("Cambodge", 2), ("Vietnam", 2), ("Colombie", 2), ("Mauritanie", 3), ("Comores", 2),
    ("Djibouti", 2), ("Centrafrique", 2), ("Congo", 2), ("Éthiopie", 2),
)  # fmt: skip
# (grade, weight, monthly gross pay range in EUR, grade after a promotion).
GRADES = (
    ("Adjoint administratif", 22, (2000, 2650), "Secrétaire de chancellerie"),
    ("Secrétaire de chancellerie", 20, (2400, 3300), "Secrétaire des affaires étrangères"),
    ("Secrétaire des affaires étrangères", 18, (2900, 4200), "Conseiller des affaires étrangères"),
    ("Attaché d'administration de l'État", 12, (2800, 4000), "Conseiller des affaires étrangères"),
    ("Attaché des systèmes d'information et de communication", 8, (2700, 3800),
     "Conseiller des affaires étrangères"),
    ("Conseiller des affaires étrangères", 14, (4200, 6500), "Ministre plénipotentiaire"),
    ("Ministre plénipotentiaire", 6, (6500, 9500), "Ministre plénipotentiaire hors classe"),
)  # fmt: skip
PROMOTION = {g: nxt for g, _, _, nxt in GRADES}
PAY = {g: rng for g, _, rng, _ in GRADES}
POSTINGS = (
    ("Administration centrale (Paris)", "France", 30),
    ("Administration centrale (Nantes)", "France", 12),
    ("Ambassade de France à Dakar", "Sénégal", 3), ("Ambassade de France à Rabat", "Maroc", 3),
    ("Ambassade de France à Tokyo", "Japon", 2), ("Ambassade de France à Berlin", "Allemagne", 3),
    ("Ambassade de France à Madrid", "Espagne", 2), ("Ambassade de France à Ottawa", "Canada", 2),
    ("Ambassade de France à Pékin", "Chine", 3), ("Ambassade de France à Brasilia", "Brésil", 2),
    ("Ambassade de France à Bamako", "Mali", 2), ("Ambassade de France à Tunis", "Tunisie", 2),
    ("Ambassade de France à Beyrouth", "Liban", 2),
    ("Consulat général de France à Montréal", "Canada", 2),
    ("Consulat général de France à Genève", "Suisse", 2),
    ("Représentation permanente de la France auprès de l'Union européenne", "Belgique", 3),
    ("Mission permanente de la France auprès des Nations unies à New York", "États-Unis", 2),
)  # fmt: skip
COMMENTS = {
    "adoptions": ("", "", "Dossier suivi par l'OAA", "", "Pièces complémentaires reçues", ""),
    "development_aid": ("", "Projet en cours", "", "Rapport final attendu", "", "Avenant signé"),
}
UPDATE_COMMENT = {
    "adoptions": "Date du jugement rectifiée",
    "development_aid": "Montant révisé après avenant",
}


def table(pairs: tuple[tuple[Any, ...], ...], weight: int = -1) -> tuple[Any, ...]:
    """Each item repeated by its weight: ``table[int(random() * len(table))]`` is a weighted draw.

    Only ``Random.random`` is called in the row loops (randint/choices cost ten times more, and a
    million rows must take seconds).

    Args:
        pairs: The items, each a tuple holding its weight.
        weight: Index of the weight in each item (the last by default).

    Returns:
        The items, each repeated as many times as its weight.
    """
    return tuple(p for p in pairs for _ in range(p[weight]))


def _ascii(text: str) -> str:
    """``text`` lower-cased without accents, keeping letters and hyphens (an e-mail part)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z-]", "", folded.lower())


EMAIL_PART = {name: _ascii(name) for name in (*FIRST_NAMES, *LAST_NAMES)}
