"""Clean rows: one infinite stream per silo, typed values (date, int, float, str).

Each stream reads one ``random.Random`` (seeded per seed and source) in a fixed order, so both
deliveries see the same rows; only ``Random.random`` is called in the loops (speed). The
``update_*`` functions say how a repeated row changes (a duplicate key inside a file, a MERGE
update across deliveries).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from itertools import count
from typing import Any

from ingestion.generator.vocabularies import (
    ACT_TYPES,
    ADOPTION_COUNTRIES,
    AGE_BANDS,
    AID_COUNTRIES,
    AID_THEMES,
    COLOURS,
    CONSULAR_POSTS,
    EMAIL_PART,
    FIRST_NAMES,
    GRADES,
    LAST_NAMES,
    PAY,
    POSTINGS,
    PROCEDURES,
    PROMOTION,
    PVT_PARTNERS,
    TRAVEL_COUNTRIES,
    ZONES,
    table,
)

Row = dict[str, Any]


def _ordinal(day: date) -> int:
    return day.toordinal()


# --- clean rows -------------------------------------------------------------------------------


def consular_rows(rng: random.Random) -> Iterator[Row]:
    """French nationals registered abroad: post, name, birth date, contact, address."""
    r, posts = rng.random, table(CONSULAR_POSTS)
    domains = ("example.org", "example.fr", "example.com", "example.net")
    birth0, birth_span = _ordinal(date(1940, 1, 1)), 68 * 365
    reg0, reg_span = (
        _ordinal(date(2008, 1, 1)),
        _ordinal(date(2025, 6, 30)) - _ordinal(date(2008, 1, 1)),
    )
    for i in count():
        post, country, city, street, _ = posts[int(r() * len(posts))]
        first = FIRST_NAMES[int(r() * len(FIRST_NAMES))]
        last = LAST_NAMES[int(r() * len(LAST_NAMES))]
        suffix = str(1 + int(r() * 99)) if r() < 0.4 else ""
        flat = f"Appartement {1 + int(r() * 40)}, " if r() < 0.25 else ""
        yield {
            "registration_id": f"RFE-{i + 1:08d}",
            "last_name": last.upper() if r() < 0.3 else last,
            "first_name": first,
            "birth_date": date.fromordinal(birth0 + int(r() * birth_span)),
            "email": f"{EMAIL_PART[first]}.{EMAIL_PART[last]}{suffix}@{domains[int(r() * 4)]}",
            "phone": f"+33 {6 + int(r() * 2)} 00 {int(r() * 100):02d} {int(r() * 100):02d} "
            f"{int(r() * 100):02d}",
            "address": f"{flat}{1 + int(r() * 250)} {street}, {city}",
            "country": country,
            "consular_post": post,
            "registration_date": date.fromordinal(reg0 + int(r() * reg_span)),
        }


def adoption_rows(rng: random.Random) -> Iterator[Row]:
    """International adoptions: country of origin, year, age band, procedure, judgment."""
    r = rng.random
    countries, ages, procs = table(ADOPTION_COUNTRIES), table(AGE_BANDS), table(PROCEDURES)
    years = table(tuple((y, 2030 - y) for y in range(2008, 2026)))  # fewer every year
    for i in count():
        year = years[int(r() * len(years))][0]
        start = _ordinal(date(year - 1, 3, 1))
        yield {
            "adoption_id": f"MAI-{year}-{i + 1:06d}",
            "country_of_origin": countries[int(r() * len(countries))][0],
            "year": year,
            "age_band": ages[int(r() * len(ages))][0],
            "procedure": procs[int(r() * len(procs))][0],
            "judgment_date": date.fromordinal(start + int(r() * 600)),
        }


def pvt_rows(rng: random.Random) -> Iterator[Row]:
    """Working-holiday visas per partner country and year.

    The key (country, year) is unique by construction: each block of partners is one year
    earlier.
    """
    r, n = rng.random, len(PVT_PARTNERS)
    for i in count():
        country, volume = PVT_PARTNERS[i % n]
        yield {
            "partner_country": country,
            "year": 2025 - i // n,
            "visas_issued": int(volume * (0.8 + 0.4 * r())),
        }


def civil_rows(rng: random.Random) -> Iterator[Row]:
    """Civil-status acts registered by the consular posts."""
    r, posts, acts = rng.random, table(CONSULAR_POSTS), table(ACT_TYPES)
    for i in count():
        year = 2016 + int(r() * 10)
        yield {
            "act_id": f"SCEC-{year}-{i + 1:08d}",
            "consular_post": posts[int(r() * len(posts))][0],
            "act_type": acts[int(r() * len(acts))][0],
            "year": year,
            "registered_on": date.fromordinal(_ordinal(date(year, 1, 1)) + int(r() * 365)),
        }


def travel_rows(rng: random.Random) -> Iterator[Row]:
    """Travel advice: colour per country, zone and effective date.

    The key (country, zone, effective_date) is unique by construction: within a block every
    (country, zone) pair appears once, and each block is dated a week later.
    """
    r, nc, nz = rng.random, len(TRAVEL_COUNTRIES), len(ZONES)
    countries = list(TRAVEL_COUNTRIES)
    rng.shuffle(countries)  # the order in which the site lists them changes with the seed
    monday = date(2025, 1, 6)
    for i in count():
        c = i % nc
        country, level = countries[c]
        zone = ZONES[(i // nc) % nz]
        if zone != ZONES[0] or r() < 0.2:
            level = min(3, max(0, level + (-1, 0, 0, 1)[int(r() * 4)]))
        yield {
            "country": country,
            "zone": zone,
            "colour": COLOURS[level],
            "effective_date": monday + timedelta(days=7 * (i // (nc * nz)) + c % 5),
        }


def aid_rows(rng: random.Random) -> Iterator[Row]:
    """Development-aid projects: title, country, DAC sector, amount, start and end dates."""
    r, countries = rng.random, table(AID_COUNTRIES)
    start0, span = (
        _ordinal(date(2018, 1, 1)),
        _ordinal(date(2025, 9, 30)) - _ordinal(date(2018, 1, 1)),
    )
    for i in count():
        theme, dac = AID_THEMES[int(r() * len(AID_THEMES))]
        country = countries[int(r() * len(countries))][0]
        start = date.fromordinal(start0 + int(r() * span))
        roll = r()
        title = f"{theme} – {country}"
        if roll < 0.08:
            title = f"{theme} ; phase {2 + int(r() * 3)}"  # the delimiter: the field is quoted
        elif roll < 0.14:
            title = f'Programme "{theme}"'  # quotes inside, doubled by the exporter
        amount = (3 + int(r() * 97)) * 10_000 if roll < 0.5 else (10 + int(r() * 2990)) * 1_000
        cents = (1 + int(r() * 99)) / 100 if r() < 0.3 else 0.0
        yield {
            "project_id": f"FSPI-{start.year}-{i + 1:06d}",
            "title": title,
            "country": country,
            "dac_sector": dac,
            "amount_eur": round(amount + cents, 2),
            "start_date": start,
            "end_date": start + timedelta(days=30 * (12 + int(r() * 49))),
        }


def hr_rows(rng: random.Random) -> Iterator[Row]:
    """Agents: name, grade, posting, monthly pay in the grade's range, start date."""
    r, grades, postings = rng.random, table(GRADES, 1), table(POSTINGS)
    start0, span = (
        _ordinal(date(1992, 9, 1)),
        _ordinal(date(2025, 9, 1)) - _ordinal(date(1992, 9, 1)),
    )
    for i in count():
        grade = grades[int(r() * len(grades))][0]
        posting, country, _ = postings[int(r() * len(postings))]
        low, high = PAY[grade]
        yield {
            "agent_id": f"AG{i + 1:07d}",
            "last_name": LAST_NAMES[int(r() * len(LAST_NAMES))],
            "first_name": FIRST_NAMES[int(r() * len(FIRST_NAMES))],
            "grade": grade,
            "posting": posting,
            "posting_country": country,
            "monthly_pay_eur": (low * 100 + int(r() * (high - low) * 100)) / 100,
            "start_date": date.fromordinal(start0 + int(r() * span)),
        }


# --- updates: how a repeated row changes (duplicate key inside a file, MERGE update across) ---


def shift_date(column: str, days: int, cap: date | None = None) -> Callable[[Row], Row]:
    """An update moving the date in ``column`` by ``days`` (no later than ``cap``)."""

    def update(row: Row) -> Row:
        new = row[column] + timedelta(days=days)
        return {**row, column: min(new, cap) if cap else new}

    return update


def update_pvt(row: Row) -> Row:
    """Five per cent more visas (at least one)."""
    return {**row, "visas_issued": row["visas_issued"] + max(1, row["visas_issued"] // 20)}


def update_travel(row: Row) -> Row:
    """The next colour up (red goes back to orange)."""
    level = COLOURS.index(row["colour"])
    return {**row, "colour": COLOURS[level + 1 if level < 3 else 2]}


def update_aid(row: Row) -> Row:
    """The amount raised by ten per cent."""
    return {**row, "amount_eur": round(row["amount_eur"] * 1.1, 2)}


def update_hr(row: Row) -> Row:
    """The agent promoted to the next grade."""
    return {**row, "grade": PROMOTION[row["grade"]]}
