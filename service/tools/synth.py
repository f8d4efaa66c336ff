"""A clearly SYNTHETIC archive for load tests and demos at scale, written as an export file.

`generate(out, persons, seed)` streams JSON Lines, one stored log row per line: exactly what
`starosta export log` writes and `service.tools.transfer.import_log` imports (positions 1..N, the
stored JSON text of each event as `CATALOG.encode` gives it, and the hash chain computed with
`events.chain`). Nothing in it is historical, and it says so everywhere: every source is titled
"Synthetic source N (not historical)" with `"synthetic": true` in its CSL item and its event,
every person, place, organisation and fund is labelled "Synthetic ..." and registered with
`synthetic=True`, and every name claim carries the note "synthetic name (not historical)".

The shape follows DOMAIN.md: persons with several names (Cyrillic, a transliteration, a
French-style variant, pseudonyms, initials, married names), births (some in the Julian
calendar), affiliations, arrests by the organ of the time, accusations, sentences, itineraries
of 2-8 custody episodes across hundreds of places (prison, transit, camp, isolator, exile, each
with a parent region), transfers, escapes, hunger strikes, forced labour, allowances, letters,
releases, rehabilitations, deaths and executions; uncertain dates (~, ?, %, month-only,
year-only, seasons, intervals, open and unknown ends); a review history (most claims approved,
some pending, rejected, contested (and some contests resolved), retracted, and some superseded
by an approved correction); a few aid funds with thousands of ledger entries (donations,
disbursements, aid in kind, transfers to committees) in USD, FRF and SUR; counts at places.

Deterministic: the same (persons, seed) gives byte-identical output. Ids, event ids and record
times come from the seed and the position (no uuid4, no clock): record time is
2026-01-01T00:00:00.000000Z plus one millisecond per position.

Dates come from a bounded vocabulary (`VOCABULARY`, about 3,400 strings, about 950 of which need
the slow `edtf` parser); each string is parsed once with `service.domain.edtf_dates.parse_date` and cached
for the life of the process, so an archive of any size costs at most a few seconds of parsing.

Memory stays flat: rows are streamed to `out`; the generator keeps only the entity pools
(places, sources, organisations, funds), a few recent person ids and the reviews not yet due.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections import deque
from collections.abc import Callable
from typing import IO, Any

import msgspec
from anyascii import anyascii

from starosta.events import participants
from starosta.events.catalog import CATALOG
from starosta.events.chain import GENESIS, chain_hash, row_digest
from starosta.events.dates import DateValue
from starosta.events.kinds import (
    AccusationClaim,
    AnyClaim,
    AffiliationClaim,
    AggregateClaim,
    AllowanceClaim,
    ArrestClaim,
    BirthClaim,
    Citation,
    Claim,
    CommitteeTransferClaim,
    CustodyClaim,
    CustodyTotalClaim,
    DeathClaim,
    DisbursementClaim,
    DonationClaim,
    EscapeClaim,
    ExecutionClaim,
    InKindClaim,
    LabourClaim,
    LetterClaim,
    MembershipClaim,
    NameClaim,
    NoRecordClaim,
    OccupationClaim,
    PresenceClaim,
    ProtestClaim,
    RelationClaim,
    ReleaseClaim,
    RoleClaim,
    SentenceClaim,
    Subset,
    TransferClaim,
)
from starosta.events.registry import (
    ArchiveRef,
    FundRegistered,
    Identification,
    OrganizationRegistered,
    PersonRegistered,
    PlaceRegistered,
    SourceRegistered,
)
from starosta.events.review import (
    ClaimApproved,
    ClaimContested,
    ClaimRejected,
    ClaimRetracted,
    ClaimSubmitted,
)
from starosta.events.store import StoredRow
from starosta.service.domain.edtf_dates import parse_date

Progress = Callable[[int, int], None]

BASE_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SYNTHETIC_NOTE = "synthetic name (not historical)"
CONTRIBUTORS = tuple(f"Synthetic Contributor {i}" for i in range(1, 7))
REVIEWERS = tuple(f"Synthetic Reviewer {i}" for i in range(1, 5))

# -- ids -----------------------------------------------------------------------------------

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32, as service.domain.ids
_MASK = (1 << 40) - 1
_MULT = 0x9E3779B97F | 1  # odd, so n -> n * _MULT + offset is a bijection modulo 2**40
_PREFIXES = {"source": "S", "person": "P", "place": "PL", "organization": "O", "fund": "F",
             "claim": "C"}


def _code(n: int) -> str:
    a = _ALPHABET
    return (a[(n >> 35) & 31] + a[(n >> 30) & 31] + a[(n >> 25) & 31] + a[(n >> 20) & 31]
            + a[(n >> 15) & 31] + a[(n >> 10) & 31] + a[(n >> 5) & 31] + a[n & 31])


# -- names -----------------------------------------------------------------------------------

_SYLLABLES = ("Ба", "Бе", "Во", "Ве", "Га", "Го", "Да", "До", "Жу", "За", "Зо", "Ка", "Ко",
              "Ку", "Ла", "Ле", "Ли", "Ма", "Ми", "Мо", "На", "Не", "Но", "Па", "Пе", "Ра",
              "Ре", "Ро", "Са", "Се", "Со", "Та", "Те", "То", "Фе", "Ха", "Хо", "Це", "Че",
              "Ша", "Ще", "Ю", "Я")
_TAILS = ("р", "л", "н", "в", "к", "д", "м", "с", "т", "рс", "лк", "нц", "рк", "ст", "шн",
          "рц", "")
_ENDINGS = (("ов", "ова"), ("ев", "ева"), ("ин", "ина"), ("ский", "ская"), ("цкий", "цкая"),
            ("енко", "енко"), ("ович", "ович"), ("ук", "ук"), ("ман", "ман"))
# (given name, patronymic of a son, patronymic of a daughter)
_MEN = (("Иван", "Иванович", "Ивановна"), ("Пётр", "Петрович", "Петровна"),
        ("Николай", "Николаевич", "Николаевна"), ("Алексей", "Алексеевич", "Алексеевна"),
        ("Михаил", "Михайлович", "Михайловна"), ("Сергей", "Сергеевич", "Сергеевна"),
        ("Григорий", "Григорьевич", "Григорьевна"), ("Яков", "Яковлевич", "Яковлевна"),
        ("Фёдор", "Фёдорович", "Фёдоровна"), ("Василий", "Васильевич", "Васильевна"),
        ("Андрей", "Андреевич", "Андреевна"), ("Борис", "Борисович", "Борисовна"),
        ("Лев", "Львович", "Львовна"), ("Матвей", "Матвеевич", "Матвеевна"),
        ("Семён", "Семёнович", "Семёновна"), ("Аарон", "Ааронович", "Аароновна"),
        ("Давид", "Давидович", "Давидовна"), ("Исаак", "Исаакович", "Исааковна"),
        ("Павел", "Павлович", "Павловна"), ("Дмитрий", "Дмитриевич", "Дмитриевна"))
_WOMEN = ("Мария", "Анна", "Ольга", "Евгения", "Надежда", "Вера", "Лидия", "Александра",
          "Екатерина", "Ирина", "Софья", "Фаина", "Роза", "Берта", "Полина", "Татьяна")
_PSEUDONYMS = ("Вольный", "Буревестник", "Странник", "Молот", "Искра", "Набат", "Сокол",
               "Тихий", "Рыжий", "Старик", "Грач", "Ветер")
# A French-style transliteration, as émigré bulletins printed Russian names ("Martsinkevitch").
_FRENCH = {"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "io", "ж": "j",
           "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
           "п": "p", "р": "r", "с": "s", "т": "t", "у": "ou", "ф": "f", "х": "kh", "ц": "ts",
           "ч": "tch", "ш": "ch", "щ": "chtch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "iou",
           "я": "ia"}


def french(text: str) -> str:
    """Return a French-style Latin spelling of Russian Cyrillic ("Кузнецов" -> "Kouznetsov")."""
    out = []
    for word in text.split(" "):
        low = word.lower()
        for end, repl in (("ский", "ski"), ("цкий", "tski"), ("ий", "i"), ("ая", "aia")):
            if low.endswith(end):
                low = low[: -len(end)] + "\0" + repl
                break
        head, _, tail = low.partition("\0")
        latin = "".join(_FRENCH.get(c, c) for c in head) + tail
        out.append(latin[:1].upper() + latin[1:])
    return " ".join(out)


def _surname(rng: random.Random) -> tuple[str, str]:
    """Return a (male, female) Cyrillic surname pair built from syllables."""
    stem = rng.choice(_SYLLABLES) + rng.choice(_SYLLABLES).lower() + rng.choice(_TAILS)
    male, female = rng.choice(_ENDINGS)
    return stem + male, stem + female


def _latin(text: str) -> str:
    return anyascii(text)


# -- dates: a bounded vocabulary, each string parsed once ---------------------------------------

FIRST_YEAR, LAST_YEAR = 1870, 1960  # every form exists for these years
LATE_YEARS = range(1961, 1992)      # plain years only (rehabilitations)
_FIRST_MONTH, _LAST_MONTH = FIRST_YEAR * 12, LAST_YEAR * 12 + 11


def _day(y: int, m: int) -> int:
    """The one day of a month that the vocabulary names (so targets always have a day form)."""
    return 1 + (y * 7 + m * 11) % 28


def _f_day(y, m): return f"{y}-{m:02d}-{_day(y, m):02d}"
def _f_month(y, m): return f"{y}-{m:02d}"
def _f_month_q(y, m): return None if y < 1918 or m % 3 != 1 else f"{y}-{m:02d}{'~' if m % 2 else '?'}"
def _f_day_q(y, m): return f"{y}-{m:02d}-{_day(y, m):02d}~" if y >= 1918 and m % 4 == 2 else None
def _f_year(y, m): return f"{y}"
def _f_year_a(y, m): return f"{y}~"
def _f_year_u(y, m): return f"{y}?"
def _f_year_ua(y, m): return f"{y}%" if y >= 1918 else None
def _f_year_xx(y, m): return f"{y}-XX" if y >= 1918 else None
def _f_season(y, m): return f"{y}-{21 + (m - 3) // 3}" if y >= 1918 and 3 <= m <= 11 else None
def _f_decade(y, m): return f"{y // 10}X"


def _f_quarter(y, m):
    if y < 1918:
        return None
    q = 3 * ((m - 1) // 3) + 1
    return f"{y}-{q:02d}/{y}-{q + 2:02d}"


def _f_years2(y, m):
    a = y - y % 2
    return f"{a}/{a + 1}"


def _f_years3(y, m):
    a = y - y % 3
    return f"{a}/{a + 2}" if y >= 1918 else None


def _f_span(y, m):  # "early to mid-thirties"
    a = y - y % 4
    return f"{a}~/{a + 3}~" if y >= 1918 else None


def _f_after(y, m): return f"{y}/.." if y >= 1918 else None      # open end: at or after y
def _f_before(y, m): return f"../{y}" if y >= 1918 else None     # at or before y
def _f_unknown_end(y, m): return f"{y}/" if y >= 1918 else None  # from y, end unknown


_FORMS = {"day": _f_day, "month": _f_month, "month_q": _f_month_q, "day_q": _f_day_q,
          "year": _f_year, "year_a": _f_year_a, "year_u": _f_year_u, "year_ua": _f_year_ua,
          "year_xx": _f_year_xx, "season": _f_season, "decade": _f_decade,
          "quarter": _f_quarter, "years2": _f_years2, "years3": _f_years3, "span": _f_span,
          "after": _f_after, "before": _f_before, "unknown_end": _f_unknown_end}

_EVENT = {"day": 30, "month": 22, "month_q": 7, "day_q": 4, "year": 10, "year_a": 5, "year_u": 3,
          "season": 3, "quarter": 5, "years2": 4, "years3": 2, "span": 1, "year_xx": 1,
          "year_ua": 1, "decade": 2}
_PROFILES = {
    "event": _EVENT,
    "start": {**_EVENT, "before": 3},
    "end": {**_EVENT, "after": 4, "unknown_end": 2},
    "birth": {"year": 40, "year_a": 15, "year_u": 5, "day": 18, "month": 10, "decade": 4,
              "years2": 8},
}


def _cumulative(weights: dict[str, int]) -> tuple[list[float], list[Callable]]:
    total = sum(weights.values())
    acc, cum, fns = 0, [], []
    for name, w in weights.items():
        acc += w
        cum.append(acc / total)
        fns.append(_FORMS[name])
    return cum, fns


_PICK = {name: _cumulative(w) for name, w in _PROFILES.items()}


def vocabulary() -> list[str]:
    """Return every date string the generator can write (gregorian), sorted."""
    found = {".."}
    for y in range(FIRST_YEAR, LAST_YEAR + 1):
        for m in range(1, 13):
            for fn in _FORMS.values():
                text = fn(y, m)
                if text is not None:
                    found.add(text)
    found.update(str(y) for y in LATE_YEARS)
    return sorted(found)


VOCABULARY = tuple(vocabulary())
_VALUES: dict[tuple[str, str], DateValue] = {}


def date_value(text: str, calendar: str = "gregorian") -> DateValue:
    """Return the parsed DateValue of a vocabulary string (parsed once per process)."""
    key = (text, calendar)
    value = _VALUES.get(key)
    if value is None:
        value = _VALUES[key] = parse_date(text, field="date", calendar=calendar)
    return value


def preparse() -> int:
    """Parse the whole vocabulary now (a few seconds); return how many strings it holds."""
    for text in VOCABULARY:
        date_value(text)
    return len(VOCABULARY)


# -- places, organisations, texts ------------------------------------------------------------------

_PLACE_KINDS = ("settlement", "prison", "camp", "prison", "exile", "transit", "camp", "settlement",
                "isolator", "exile", "prison", "camp", "settlement", "exile", "transit", "prison",
                "camp", "isolator", "exile", "settlement")
_PLACE_SUFFIX = {"settlement": ("ск", "ово", "ино", "град"), "prison": ("ская тюрьма", "ский централ"),
                 "camp": ("лаг", "строй", "ский лагпункт"), "isolator": ("ский политизолятор",),
                 "exile": ("ск", "инское", "ово"), "transit": ("ская пересылка", "ский пересыльный пункт")}
_REGION_WORDS = ("North", "Urals", "Volga", "Siberia", "Central Asia", "Far East", "Caucasus",
                 "White Sea", "Kazakhstan", "Arctic", "Centre", "South")
_AFFILIATIONS = ("anarchist", "anarcho-syndicalist", "anarcho-communist", "Left SR",
                 "SR-Maximalist", "Menshevik", "Tolstoyan", "Zionist-socialist", "CNT")
_OCCUPATIONS = ("printer", "teacher", "student", "sailor", "tailor", "metalworker", "doctor",
                "bookbinder", "railwayman", "weaver", "journalist", "peasant")
_ACCUSATIONS = ("counter-revolutionary activity", "anarchist propaganda",
                "membership of an illegal group", "Trotskyism", "anti-Soviet agitation",
                "correspondence with émigrés", "insulting an official", "sabotage")
_TERMS = (("penal_servitude", "8 years' penal servitude", "P8Y"), ("camp", "5 years", "P5Y"),
          ("camp", "10 years", "P10Y"), ("camp", "3 years", "P3Y"),
          ("exile", "3 years' exile", "P3Y"), ("exile", "2 years and 6 months", "P2Y6M"),
          ("isolator", "3 years' isolator", "P3Y"), ("prison", "18 months", "P1Y6M"),
          ("banishment", "banishment for 5 years", "P5Y"), ("death", "the highest measure", None))
_LABOUR = ("felling trees", "coal mines", "railway construction", "a vulcanisation plant",
           "peat cutting", "canal digging", "a brickworks", "fishing brigade")
_ITEMS = ("books and newspapers", "warm clothes", "medicines", "parcels of food", "tea and sugar")
_DONORS = ("Synthetic Donor Group {n} (Chicago)", "Synthetic Donor Group {n} (Paris)",
           "Synthetic Anonymous Donor {n}", "Synthetic Workers' Circle {n} (New York)",
           "Synthetic Benefit Evening {n}")
_GROUPS = ("Synthetic group: anarchists in exile", "Synthetic group: Left SRs held",
           "Synthetic group: foreign anti-fascists", "Synthetic group: women prisoners",
           "Synthetic group: hunger strikers")
_REASONS_REJECT = ("Synthetic: the locator does not support the claim",
                   "Synthetic: misread date in the source", "Synthetic: duplicate of another claim")
_REASONS_CONTEST = ("Synthetic: another issue of the bulletin gives a different place",
                    "Synthetic: the name may belong to a namesake",
                    "Synthetic: the date looks Old Style")


class _Place(msgspec.Struct, gc=False):
    id: str
    kind: str
    latin: str


# -- the generator ------------------------------------------------------------------------------------

class _Writer:
    """Numbers, chains and streams rows; counts event types."""

    def __init__(self, out: IO[bytes], seed: int) -> None:
        self.out = out
        self.position = 0
        self.previous = GENESIS
        self.counts: dict[str, int] = {}
        self.buffer: list[bytes] = []
        self.ids = random.Random(f"starosta-synth-ids:{seed}")
        self.job = 0
        self._second = -1
        self._prefix = ""
        self._encode_event = CATALOG.encode
        self._encode_row = msgspec.json.Encoder().encode

    def request_id(self) -> str:
        self.job += 1
        return f"synth-{self.job:08d}"

    def recorded_at(self, position: int) -> str:
        second, ms = divmod(position, 1000)
        if second != self._second:
            self._second = second
            self._prefix = (BASE_TIME + dt.timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._prefix}.{ms:03d}000Z"

    def emit(self, stream_id: str, version: int, event: Any, actor: str, request_id: str) -> None:
        self.position = position = self.position + 1
        tag, schema_version, data = self._encode_event(event)
        text = data.decode()
        event_id = f"{self.ids.getrandbits(128):032x}"
        recorded_at = self.recorded_at(position)
        row = (position, event_id, stream_id, version, tag, schema_version, text, actor,
               request_id, None, recorded_at)
        self.previous = chain_hash(self.previous, row_digest(row))
        self.buffer.append(self._encode_row(StoredRow(
            position=position, event_id=event_id, stream_id=stream_id, version=version, type=tag,
            schema_version=schema_version, data=text, actor=actor, request_id=request_id,
            causation_id=None, recorded_at=recorded_at, hash=self.previous)))
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if len(self.buffer) >= 4096:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.buffer.append(b"")
            self.out.write(b"\n".join(self.buffer))
            self.buffer.clear()


class _Plan(msgspec.Struct, gc=False):
    """A submitted claim whose review is still to come."""

    claim_id: str
    claim: Any
    dates: dict
    contributor: str


class _Synth:
    def __init__(self, out: IO[bytes], persons: int, seed: int) -> None:
        self.w = _Writer(out, seed)
        self.rng = random.Random(seed)
        self.seed = seed
        self.persons = persons
        offsets = random.Random(f"starosta-synth-offsets:{seed}")
        self._offset = {k: offsets.getrandbits(40) for k in _PREFIXES}
        self._serial = {k: 0 for k in _PREFIXES}
        self.width = max(5, len(str(persons)))
        self.due: dict[int, list[_Plan]] = {}
        self.recent: deque[str] = deque(maxlen=64)
        self.sources: list[str] = []
        self.places: dict[str, list[_Place]] = {}
        self.regions: list[str] = []
        self.organs: dict[str, str] = {}
        self.tribunals: list[str] = []
        self.committees: list[str] = []
        self.colonies: list[str] = []
        self.movements: list[str] = []
        self.funds: list[tuple[str, str]] = []  # (fund id, currency)

    # -- basics ----------------------------------------------------------------------------------

    def new_id(self, kind: str) -> str:
        self._serial[kind] = n = self._serial[kind] + 1
        return f"{_PREFIXES[kind]}-{_code((n * _MULT + self._offset[kind]) & _MASK)}"

    def citation(self) -> Citation:
        rng = self.rng
        r = rng.random()
        source = rng.choice(self.sources)
        if r < 0.6:
            return Citation(source=source, locator=f"p. {rng.randint(1, 480)}")
        if r < 0.85:
            return Citation(source=source, locator=f"issue {rng.randint(1, 60)}, p. {rng.randint(1, 24)}")
        if r < 0.95:
            return Citation(source=source, locator=f"l. {rng.randint(1, 300)}",
                            quote="Synthetic quotation (not historical).")
        return Citation(source=source, locator=f"letter {rng.randint(1, 900)}",
                        via=("Synthetic translation (not historical)",))

    def when(self, profile: str, t: int) -> str:
        """Return a vocabulary date string whose bounds contain month index `t` (year*12+month-1)."""
        # Clamp the month (not the year alone), so that later targets never get earlier strings.
        t = max(_FIRST_MONTH, min(t, _LAST_MONTH))
        y, m = divmod(t, 12)
        m += 1
        cum, fns = _PICK[profile]
        text = fns[bisect.bisect(cum, self.rng.random())](y, m)
        return text if text is not None else _f_month(y, m)

    def submit(self, claim: AnyClaim, contributor: str, dates: dict[str, DateValue] | None = None,
               review_at: int = 0, extra: tuple = ()) -> str:
        """Append a claim (with `extra` (stream, event) pairs in the same request); its legacy
        fields (`recipient`, `via`, `with`) stored as participants, as a submission stores them."""
        claim = participants.normalised(claim)
        claim_id = self.new_id("claim")
        if dates is None:
            dates = {}
            for field in claim.DATES:
                text = getattr(claim, field)
                if text is not None:
                    dates[field] = date_value(text, claim.calendar)
        request_id = self.w.request_id()
        for stream, event in extra:
            self.w.emit(stream, 1, event, contributor, request_id)
        self.w.emit(claim_id, 1, ClaimSubmitted(claim_id=claim_id, contributor=contributor,
                                                claim=claim, dates=dates), contributor, request_id)
        self.due.setdefault(review_at, []).append(_Plan(claim_id, claim, dates, contributor))
        return claim_id

    # -- review -----------------------------------------------------------------------------------

    def review(self, plan: _Plan) -> None:
        rng, w = self.rng, self.w
        cid = plan.claim_id
        r = rng.random()
        first = rng.choice(REVIEWERS)
        if r < 0.78:  # approved
            w.emit(cid, 2, ClaimApproved(claim_id=cid, reviewer=first), first, w.request_id())
        elif r < 0.87:  # pending: nothing yet
            return
        elif r < 0.91:
            w.emit(cid, 2, ClaimRejected(claim_id=cid, reviewer=first, reason=rng.choice(_REASONS_REJECT)),
                   first, w.request_id())
        elif r < 0.96:  # contested, from pending or after approval, sometimes resolved
            version = 2
            if rng.random() < 0.5:
                w.emit(cid, version, ClaimApproved(claim_id=cid, reviewer=first), first, w.request_id())
                version += 1
            contester = REVIEWERS[(REVIEWERS.index(first) + 1) % len(REVIEWERS)]
            counter = self.citation() if rng.random() < 0.5 else None
            w.emit(cid, version, ClaimContested(claim_id=cid, reviewer=contester,
                                                reason=rng.choice(_REASONS_CONTEST), citation=counter),
                   contester, w.request_id())
            s = rng.random()
            if s < 0.5:
                return  # stays contested
            resolver = REVIEWERS[(REVIEWERS.index(contester) + 1) % len(REVIEWERS)]
            if s < 0.8:
                w.emit(cid, version + 1, ClaimApproved(claim_id=cid, reviewer=resolver,
                                                       reason="Synthetic: contest dismissed",
                                                       resolves_contest=True), resolver, w.request_id())
            else:
                w.emit(cid, version + 1, ClaimRejected(claim_id=cid, reviewer=resolver,
                                                       reason="Synthetic: contest upheld",
                                                       resolves_contest=True), resolver, w.request_id())
        elif r < 0.985:  # approved, then superseded by an approved correction
            w.emit(cid, 2, ClaimApproved(claim_id=cid, reviewer=first), first, w.request_id())
            correction = msgspec.structs.replace(plan.claim, supersedes=cid, citation=self.citation(),
                                                 note="Synthetic correction (not historical)")
            new = self.new_id("claim")
            w.emit(new, 1, ClaimSubmitted(claim_id=new, contributor=plan.contributor, claim=correction,
                                          dates=plan.dates), plan.contributor, w.request_id())
            second = REVIEWERS[(REVIEWERS.index(first) + 2) % len(REVIEWERS)]
            w.emit(new, 2, ClaimApproved(claim_id=new, reviewer=second), second, w.request_id())
        else:  # retracted by its contributor while pending
            w.emit(cid, 2, ClaimRetracted(claim_id=cid, contributor=plan.contributor,
                                          reason="Synthetic: entered against the wrong person"),
                   plan.contributor, w.request_id())

    def review_due(self, upto: int) -> None:
        for key in sorted(k for k in self.due if k <= upto):
            for plan in self.due.pop(key):
                self.review(plan)

    # -- registry ---------------------------------------------------------------------------------

    def name_claim(self, field: str, entity: str, name: str, contributor: str, review_at: int,
                   extra: tuple, **more: Any) -> str:
        claim = NameClaim(citation=self.citation(), name=name, note=SYNTHETIC_NOTE,
                          script=more.pop("script", "Latn"), **{field: entity}, **more)
        return self.submit(claim, contributor, review_at=review_at, extra=extra)

    def header(self) -> None:
        rng, w = self.rng, self.w
        admin = CONTRIBUTORS[0]
        n_places = max(50, self.persons // 200)
        n_sources = max(12, self.persons // 100)
        types = (("bulletin", "article-journal"), ("memoir", "book"), ("archival_file", "manuscript"),
                 ("emigre_press", "article-newspaper"), ("secondary_work", "book"), ("letter", "personal_communication"))
        for i in range(1, n_sources + 1):
            source_type, csl_type = types[i % len(types)]
            source_id = self.new_id("source")
            csl = {"type": csl_type, "title": f"Synthetic source {i} (not historical)", "synthetic": True,
                   "issued": {"date-parts": [[rng.randint(1921, 1990)]]}}
            archive = None
            if source_type == "archival_file":
                archive = ArchiveRef(archive="Synthetic State Archive (not historical)",
                                     fond=f"R-{rng.randint(1, 9999)}", opis=str(rng.randint(1, 20)),
                                     delo=str(rng.randint(1, 5000)))
            w.emit(source_id, 1, SourceRegistered(
                source_id=source_id, csl=csl, source_type=source_type, archive=archive, synthetic=True,
                note=f"Generated by starosta's synthetic archive (seed {self.seed}); not historical."),
                admin, w.request_id())
            self.sources.append(source_id)

        def organization(label: str, kind: str) -> str:
            org = self.new_id("organization")
            event = OrganizationRegistered(organization_id=org, label=label, kind=kind, synthetic=True)
            self.name_claim("organization", org, label, admin, 0, ((org, event),))
            return org

        for year, organ in ((1917, "Cheka"), (1922, "OGPU"), (1934, "NKVD"), (1946, "MGB")):
            self.organs[organ] = organization(f"Synthetic Organ ({organ}-type, not historical)", "organ")
        self.tribunals = [organization(f"Synthetic Tribunal {i}", "tribunal") for i in range(1, 4)]
        self.committees = [organization(f"Synthetic Aid Committee {i} ({city})", "committee")
                           for i, city in enumerate(("Berlin", "Paris", "Chicago", "New York"), 1)]
        self.movements = [organization(f"Synthetic Federation {i} ({a})", "movement")
                          for i, a in enumerate(_AFFILIATIONS[:5], 1)]

        for i in range(1, max(6, n_places // 25) + 1):
            region = self.new_id("place")
            label = f"Synthetic Region {i:02d} ({_REGION_WORDS[i % len(_REGION_WORDS)]})"
            event = PlaceRegistered(place_id=region, label=label, kind="region", synthetic=True)
            self.name_claim("place", region, label, admin, 0, ((region, event),))
            self.regions.append(region)
        for i in range(1, n_places + 1):
            kind = _PLACE_KINDS[i % len(_PLACE_KINDS)]
            stem = rng.choice(_SYLLABLES) + rng.choice(_SYLLABLES).lower() + rng.choice(_TAILS)
            cyrillic = stem + rng.choice(_PLACE_SUFFIX[kind])
            latin = _latin(cyrillic)
            place = self.new_id("place")
            label = f"Synthetic {kind.capitalize()} {i:03d} {latin}"
            aliases = (cyrillic, french(cyrillic))
            identification = None
            if rng.random() < 0.1:
                identification = Identification(said=f"{french(stem)}a [presumably {latin}]",
                                                certainty=rng.choice(("presumed", "probable", "uncertain")))
            coords = {}
            if rng.random() < 0.7:
                coords = {"latitude": round(rng.uniform(38, 70), 4), "longitude": round(rng.uniform(28, 170), 4)}
            event = PlaceRegistered(place_id=place, label=label, kind=kind, aliases=aliases,
                                    parent=rng.choice(self.regions), identification=identification,
                                    synthetic=True, **coords)
            self.name_claim("place", place, label, admin, 0, ((place, event),))
            self.places.setdefault(kind, []).append(_Place(place, kind, latin))
            if kind == "exile" and len(self.colonies) < 40:
                self.colonies.append(organization(f"Synthetic Colony of exiles at {latin}", "colony"))
        for i, currency in enumerate(("USD", "FRF", "SUR", "USD"), 1):
            fund = self.new_id("fund")
            label = f"Synthetic Fund {i} ({currency}, not historical)"
            fund_event = FundRegistered(fund_id=fund, label=label,
                                        organization=self.committees[i - 1], synthetic=True)
            self.name_claim("fund", fund, label, admin, 0, ((fund, fund_event),))
            self.funds.append((fund, currency))
        self.review_due(0)

    # -- one person ----------------------------------------------------------------------------------

    def place(self, kind: str) -> _Place:
        return self.rng.choice(self.places[kind])

    def person(self, i: int) -> None:
        rng = self.rng
        who = rng.choice(CONTRIBUTORS)
        due = i + rng.randint(0, 3)
        woman = rng.random() < 0.25
        father = rng.choice(_MEN)
        male, female = _surname(rng)
        surname = female if woman else male
        given = rng.choice(_WOMEN) if woman else father[0]
        while not woman and given == father[0] and rng.random() < 0.8:
            given = rng.choice(_MEN)[0]
        patronymic = rng.choice(_MEN)[2 if woman else 1]
        latin_surname = _latin(surname)
        person = self.new_id("person")
        partial = rng.random() < 0.03
        if partial:
            region = _REGION_WORDS[rng.randrange(len(_REGION_WORDS))]
            label = f"Synthetic Person {i + 1:0{self.width}d} {_latin(given)[0]}. ({region})"
        else:
            label = f"Synthetic Person {i + 1:0{self.width}d} {latin_surname}"
        registered = PersonRegistered(person_id=person, label=label, partial=partial, synthetic=True)
        self.name_claim("person", person, label, who, due, ((person, registered),), name_kind="other")
        cyrillic = f"{given} {patronymic} {surname}"
        if not partial or rng.random() < 0.3:
            self.name_claim("person", person, cyrillic, who, due, (), name_kind="birth", script="Cyrl")
            if rng.random() < 0.9:
                self.name_claim("person", person, _latin(cyrillic), who, due, (), name_kind="transliteration")
            if rng.random() < 0.4:
                self.name_claim("person", person, french(f"{given} {surname}"), who, due, ())
        if rng.random() < 0.15:
            pseudonym = rng.choice(_PSEUDONYMS)
            self.name_claim("person", person, pseudonym, who, due, (), name_kind="pseudonym", script="Cyrl")
        if rng.random() < 0.1:
            self.name_claim("person", person, f"{_latin(given)[0]}. {latin_surname[0]}.", who, due, (),
                            name_kind="initials")

        born = rng.randint(1880, 1915) * 12 + rng.randrange(12)
        if rng.random() < 0.85:
            text = self.when("birth", born)
            # Some sources of the time give Old Style days: plain days and months only (no parse).
            plain = len(text) in (7, 10) and text[4] == "-" and text[-1].isdigit()
            calendar = "julian" if plain and rng.random() < 0.3 else "gregorian"
            place = self.place("settlement").id if rng.random() < 0.5 else None
            self.submit(BirthClaim(citation=self.citation(), person=person, date=text, place=place,
                                   calendar=calendar), who, review_at=due)
        if woman and rng.random() < 0.2:
            married = _latin(_surname(rng)[1])
            start = self.when("event", born + 12 * rng.randint(18, 30))
            self.name_claim("person", person, f"{_latin(given)} {married}", who, due, (),
                            name_kind="married", start=start)
        first = rng.choice((1919, 1921, 1922, 1923, 1925, 1929, 1930, 1931, 1933, 1935, 1936,
                            1937, 1937, 1938, 1938, 1940, 1941, 1944, 1948, 1949))
        t = first * 12 + rng.randrange(12)
        affiliation = rng.choice(_AFFILIATIONS)
        if rng.random() < 0.8:
            org = rng.choice(self.movements) if rng.random() < 0.3 else None
            self.submit(AffiliationClaim(citation=self.citation(), person=person, affiliation=affiliation,
                                         organization=org, start=self.when("event", t - 12 * rng.randint(1, 10))),
                        who, review_at=due)
        if rng.random() < 0.5:
            self.submit(OccupationClaim(citation=self.citation(), person=person,
                                        occupation=rng.choice(_OCCUPATIONS)), who, review_at=due)
        self.itinerary(person, who, due, t, woman)
        if rng.random() < 0.05 and self.recent:
            self.submit(RelationClaim(citation=self.citation(), person=person, other=rng.choice(self.recent),
                                      relation=rng.choice(("brother", "sister", "spouse", "comrade", "relative"))),
                        who, review_at=due)
        self.recent.append(person)
        self.ledger(person, who, due, t)
        if rng.random() < 0.04:
            self.aggregate(who, due, t)

    def itinerary(self, person: str, who: str, due: int, t: int, woman: bool) -> None:
        """Arrests, sentences and 2-8 custody episodes from month index `t`; then the end."""
        rng = self.rng
        episodes = rng.randint(2, 8)
        arrests = 1 + (episodes > 4 and rng.random() < 0.6)
        per_arrest = [episodes // arrests + (k < episodes % arrests) for k in range(arrests)]
        previous: _Place | None = None
        end_t = t
        for k, count in enumerate(per_arrest):
            year = t // 12
            organ = self.organs["Cheka" if year < 1922 else "OGPU" if year < 1934 else
                                "NKVD" if year < 1946 else "MGB"]
            city = self.place("settlement")
            self.submit(ArrestClaim(citation=self.citation(), person=person, date=self.when("event", t),
                                    place=city.id if rng.random() < 0.7 else None,
                                    organ=organ if rng.random() < 0.6 else None), who, review_at=due)
            if rng.random() < 0.5:
                self.submit(AccusationClaim(citation=self.citation(), person=person,
                                            accusation=rng.choice(_ACCUSATIONS),
                                            date=self.when("event", t + 1) if rng.random() < 0.6 else None),
                            who, review_at=due)
            if rng.random() < 0.9:
                kind, term, iso = _TERMS[rng.randrange(len(_TERMS) - (0 if rng.random() < 0.05 else 1))]
                self.submit(SentenceClaim(citation=self.citation(), person=person, sentence=kind,
                                          date=self.when("event", t + rng.randint(1, 8)), term=term,
                                          term_iso=iso, authority=rng.choice(self.tribunals) if rng.random() < 0.5 else None,
                                          authority_said="a secret tribunal (synthetic)" if rng.random() < 0.2 else None),
                            who, review_at=due)
            plan = ["prison"]
            while len(plan) < count:
                plan.append(rng.choice(("transit", "camp", "camp", "isolator", "exile", "exile", "prison")))
            for j, kind in enumerate(plan):
                length = {"prison": (1, 12), "transit": (0, 2), "camp": (12, 60), "isolator": (6, 36),
                          "exile": (12, 48)}[kind]
                end_t = t + rng.randint(*length)
                place = self.place(kind)
                last = k == arrests - 1 and j == len(plan) - 1
                start = self.when("start", t)
                end: str | None = self.when("end", end_t)
                if last and rng.random() < 0.2:
                    end = None  # no record of the end
                unknown = rng.random() < 0.02
                self.submit(CustodyClaim(citation=self.citation(), person=person, custody=kind,
                                         place=None if unknown else place.id,
                                         place_said="a death camp" if unknown else (place.latin if rng.random() < 0.1 else None),
                                         start=start, end=end), who, review_at=due)
                if previous is not None and rng.random() < 0.3:
                    self.submit(TransferClaim(citation=self.citation(), person=person,
                                              date=self.when("event", t), from_place=previous.id,
                                              to_place=place.id), who, review_at=due)
                if kind == "camp" and rng.random() < 0.2:
                    self.submit(LabourClaim(citation=self.citation(), person=person, labour=rng.choice(_LABOUR),
                                            place=place.id, start=self.when("start", t)), who, review_at=due)
                if kind == "camp" and rng.random() < 0.03:
                    recaptured = rng.random() < 0.6
                    self.submit(EscapeClaim(citation=self.citation(), person=person,
                                            outcome="recaptured" if recaptured else rng.choice(("escaped", "failed")),
                                            date=self.when("event", t + 1), place=place.id,
                                            recaptured=self.when("event", t + 4) if recaptured else None,
                                            destination_said="towards the border (synthetic)" if not recaptured else None),
                                who, review_at=due)
                if kind == "isolator" and rng.random() < 0.1:
                    self.submit(ProtestClaim(citation=self.citation(), protest="hunger_strike", person=person,
                                             place=place.id, start=self.when("event", t + 1)), who, review_at=due)
                if kind == "exile":
                    if rng.random() < 0.15:
                        self.submit(LetterClaim(citation=self.citation(), person=person, date=self.when("event", t + 2),
                                                place=place.id, recipient=rng.choice(self.committees)),
                                    who, review_at=due)
                    if rng.random() < 0.05:
                        self.submit(AllowanceClaim(citation=self.citation(), amount="6.25", currency="SUR",
                                                   period="month", person=person, place=place.id,
                                                   payer_said="the state (synthetic)", start=self.when("start", t)),
                                    who, review_at=due)
                    if rng.random() < 0.05 and self.colonies:
                        self.submit(MembershipClaim(citation=self.citation(), person=person,
                                                    organization=rng.choice(self.colonies),
                                                    start=self.when("start", t)), who, review_at=due)
                    if rng.random() < 0.02:
                        self.submit(RoleClaim(citation=self.citation(), person=person, role="starosta",
                                              place=place.id, start=self.when("start", t + 3)), who, review_at=due)
                previous = place
                t = end_t
            t = end_t + rng.randint(3, 60)  # between arrests
        # the end of the itinerary
        r = rng.random()
        if r < 0.35:
            manner = rng.choice(("died_in_camp", "died_in_custody", "died_in_exile", "shot", "natural", "unknown"))
            dated = rng.random() < 0.7
            self.submit(DeathClaim(citation=self.citation(), person=person, manner=manner,
                                   date=self.when("event", end_t) if dated else None,
                                   place=previous.id if previous and rng.random() < 0.5 else None),
                        who, review_at=due)
            if manner == "shot" and rng.random() < 0.6:
                self.submit(ExecutionClaim(citation=self.citation(), person=person, date=self.when("event", end_t),
                                           authority=rng.choice(self.tribunals)), who, review_at=due)
        elif r < 0.85:
            self.submit(ReleaseClaim(citation=self.citation(), person=person,
                                     release=rng.choice(("release", "release", "amnesty", "pardon",
                                                         "deportation_abroad", "sentence_overturned", "banishment")),
                                     date=self.when("event", end_t),
                                     destination=self.place("settlement").id if rng.random() < 0.3 else None),
                        who, review_at=due)
            if rng.random() < 0.2:
                self.submit(PresenceClaim(citation=self.citation(), person=person,
                                          place=self.place("settlement").id, purpose="living after release (synthetic)",
                                          start=self.when("start", end_t + 1)), who, review_at=due)
        else:
            self.submit(NoRecordClaim(citation=self.citation(), person=person, of="release"), who, review_at=due)
        if rng.random() < 0.1:
            self.submit(ReleaseClaim(citation=self.citation(), person=person, release="rehabilitation",
                                     date=str(rng.randint(1956, 1991))), who, review_at=due)
        if rng.random() < 0.03:
            years, days = rng.randint(1, 20), rng.randint(0, 364)
            self.submit(CustodyTotalClaim(citation=self.citation(), person=person,
                                          total=f"{years} years and {days} days", days=years * 365 + days),
                        who, review_at=due)

    def amount(self, currency: str) -> str:
        rng = self.rng
        if currency == "SUR":
            return f"{rng.randint(1, 60)}.{rng.choice((0, 25, 50, 75)):02d}"
        if currency == "FRF":
            return str(rng.randint(1, 40) * 25)
        return f"{rng.randint(1, 200)}.{rng.randrange(100):02d}"

    def ledger(self, person: str, who: str, due: int, t: int) -> None:
        rng = self.rng
        if rng.random() < 0.6:
            fund, currency = rng.choice(self.funds)
            donor = rng.choice(_DONORS).format(n=1 + rng.randrange(max(20, self.persons // 20)))
            self.submit(DonationClaim(citation=self.citation(), fund=fund, donor=donor,
                                      amount=self.amount(currency), currency=currency,
                                      date=self.when("event", rng.randint(1923, 1939) * 12 + rng.randrange(12))),
                        who, review_at=due)
        if rng.random() < 0.5:
            fund, currency = rng.choice(self.funds)
            to_colony = bool(self.colonies) and rng.random() < 0.1
            via = rng.choice(self.recent) if self.recent and rng.random() < 0.2 else None
            sum_given = rng.random() < 0.9  # the bulletins do not always give the sum
            self.submit(DisbursementClaim(citation=self.citation(), fund=fund,
                                          recipient=rng.choice(self.colonies) if to_colony else person, via=via,
                                          amount=self.amount(currency) if sum_given else None,
                                          currency=currency if sum_given else None,
                                          date=self.when("event", t + rng.randint(1, 24))),
                        who, review_at=due)
        if rng.random() < 0.1:
            fund, _ = rng.choice(self.funds)
            self.submit(InKindClaim(citation=self.citation(), fund=fund, items=rng.choice(_ITEMS),
                                    recipient=person, date=self.when("event", t + rng.randint(1, 24))),
                        who, review_at=due)
        if rng.random() < 0.02:
            fund, currency = rng.choice(self.funds)
            self.submit(CommitteeTransferClaim(
                citation=self.citation(), fund=fund, to=rng.choice(self.committees),
                purpose=rng.choice(("for exiled Bulgarians (synthetic)", "for Italian prisoners (synthetic)")),
                amount=self.amount(currency), currency=currency,
                date=self.when("event", rng.randint(1923, 1939) * 12)), who, review_at=due)

    def aggregate(self, who: str, due: int, t: int) -> None:
        rng = self.rng
        place = self.place(rng.choice(("camp", "exile", "prison", "isolator")))
        count = rng.randint(5, 300)
        of_whom: tuple[Subset, ...] = ()
        if rng.random() < 0.4:
            of_whom = (Subset(count=rng.randint(1, count), qualifier=rng.choice(("exact", "at_least")),
                              what=rng.choice(("died", "were shot", "were women", "were released"))),)
        self.submit(AggregateClaim(citation=self.citation(), count=count, group=rng.choice(_GROUPS),
                                   qualifier=rng.choice(("exact", "at_least", "at_most", "about")),
                                   place=place.id, date=self.when("event", t), of_whom=of_whom),
                    who, review_at=due)


def generate(out: IO[bytes], persons: int, seed: int, progress: Progress | None = None) -> dict[str, int]:
    """Write a SYNTHETIC archive of `persons` persons to `out` as an export file; return counts
    of events per type. The same (persons, seed) writes the same bytes.

    `progress(done, total)` is called every 100 persons and at the end (total = persons).
    """
    if persons < 1:
        raise ValueError("persons must be at least 1")
    synth = _Synth(out, persons, seed)
    synth.header()
    for i in range(persons):
        synth.person(i)
        synth.review_due(i)
        if progress and (i + 1) % 100 == 0:
            progress(i + 1, persons)
    synth.review_due(persons + 10)
    synth.w.flush()
    if progress:
        progress(persons, persons)
    return dict(sorted(synth.w.counts.items()))
