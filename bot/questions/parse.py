"""Read a question the way a CSM types it into what it asks: who or what it is about, which filters, what is wanted.

Deterministic and local: regular expressions for the filters and the kind of answer, the store's vocabulary for
names (exact, then a close misspelling). Nothing here reads scores; `bot.questions.answer` does that.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from rapidfuzz import fuzz, process

from bot.questions.vocabulary import Csm, Vocabulary, fold, squash

Wanted = Literal[
    "churned",
    "card",
    "why",
    "list",
    "portfolio",
    "trend",
    "changes",
    "compare",
    "plan",
    "model",
    "help",
    "unsupported",
    "export",
    "digest",
]
PlanKind = Literal["success", "qbr", "renewal", "recovery", "expansion"]
_ACCOUNT_FOUND = 86  # a rapidfuzz ratio this high on the squashed name is the account meant
_CSM_FOUND = 80
_CLEAR_WINNER = 80  # … or this high, when no other name comes within _CLEAR_MARGIN of it
_CLEAR_MARGIN = 12
_SUGGEST = 60


@dataclass(frozen=True)
class Miss:
    """A name in the question that matches nothing the store has: what was typed, what kind, the closest names."""

    kind: str  # "csm", "scope", "account"
    typed: str
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    """What a question asks, ready to answer."""

    text: str
    wanted: Wanted
    plan: PlanKind | None = None
    accounts: tuple[str, ...] = ()  # account IDs, in the order named
    churned: tuple[tuple[str, date], ...] = ()  # former customers named: (ID, churned on)
    csm: str | None = None  # the CSM's name as in the store
    csms: tuple[str, ...] = ()  # two or more CSMs named ("compare Sarah and Kenji"): their books side by side
    mine: bool = False  # "my book": the asker's own (csm filled in by the answerer)
    team: bool = False  # the whole team, said so
    scope: tuple[tuple[str, str], ...] = ()  # (kind, value) pairs: segment, region, industry, plan_tier, lifecycle
    bands: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()  # signal keys; an account with any of them matches
    renew_days: int | None = None
    renew_window: str | None = None  # this_quarter, next_quarter, next_month, this_year, [by_]month:N, [by_]quarter:N
    no_touch_days: int | None = None
    no_login_days: int | None = None
    no_qbr_days: int | None = None
    nps_max: float | None = None
    plan_change: str | None = None  # "accounts that upgraded": the latest snapshot's plan change ("upgrade", …)
    alerts: str | None = None  # "open alerts": accounts with an unresolved alert; "unacknowledged": nobody acked it
    overdue: bool = False
    metrics: tuple[tuple[str, str, float], ...] = ()  # (measure, op, value): "more than 5 tickets"
    stale_since: tuple[str, int] | None = None  # ("touch", 10): no touch since the 1st of the last October
    dropped: float | None = None  # fell by at least this many points since last month
    gained: float | None = None  # rose by at least this many points since last month
    crossed_below: float | None = None  # "fell below 60 this month": under it now, at or over it last month
    sort_by: tuple[str, bool] | None = None  # (measure, highest first): "most tickets", "lowest NPS"
    declining: bool = False
    expansion: bool = False
    window_days: int | None = None  # "since last week" = 7
    months: int | None = None  # trend over N months
    sort: str | None = None  # "arr", "score", "score_desc", "drop"
    limit: int | None = None
    count: bool = False  # "how many": the count leads the answer
    group_by: str | None = None  # "compare SMB and Enterprise": the team's book, one row a segment
    rank: tuple[str, bool] | None = None  # (what, most first): "which CSM has the most red accounts" ranks the groups
    exclude: tuple[tuple[str, str], ...] = ()  # "not in SMB", "except Sarah's": (kind or "csm", value) left out
    score_min: float | None = None
    score_max: float | None = None
    arr_min: float | None = None
    arr_max: float | None = None
    misses: tuple[Miss, ...] = ()
    unsupported_reason: str | None = None
    notes: tuple[str, ...] = field(default=())  # what the parser read loosely, said back with the answer

    @property
    def has_filter(self) -> bool:
        return bool(
            self.bands
            or self.signals
            or self.renew_days is not None
            or self.renew_window
            or self.no_touch_days is not None
            or self.no_login_days is not None
            or self.no_qbr_days is not None
            or self.nps_max is not None
            or self.plan_change is not None
            or self.alerts is not None
            or self.overdue
            or self.metrics
            or self.stale_since
            or self.dropped is not None
            or self.gained is not None
            or self.crossed_below is not None
            or self.sort_by
            or self.declining
            or self.expansion
            or self.sort
            or self.limit
            or self.exclude
            or self.score_min is not None
            or self.score_max is not None
            or self.arr_min is not None
            or self.arr_max is not None
        )


# --- cleaning --------------------------------------------------------------------------------------------------------
_SLACK_LINK = re.compile(r"<(?:#[A-Z0-9]+|!subteam\^[A-Z0-9]+|[a-z]+://[^|>]*|mailto:[^|>]*)\|([^>]*)>")
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_LEADING_MENTION = re.compile(r"^\s*(?:(?:<@[UW][A-Z0-9]+(?:\|[^>]*)?>|@?healthbot\b)[\s,:;]*)+", re.IGNORECASE)
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-]+:")
_SYMBOLS = re.compile(r"[^\w\s&'<>@|+=\-.,?!/%]", re.UNICODE)


def clean(text: str, *, people: frozenset[str] = frozenset()) -> str:
    """The question as typed, without Slack's markup, the bot's own mention, emoji and curly quotes. A leading
    mention of one of `people` (CSMs' Slack IDs) is a subject ("<@U…>'s book"), not the bot, and is kept."""
    text = _SLACK_LINK.sub(r"\1", text or "")
    leading = _USER.match(text.strip())
    if leading and leading.group(1) in people:
        text = "\u2060" + text.strip()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = text.replace("\u2014", " ").replace("\u2013", " ")
    text = _LEADING_MENTION.sub("", text)
    text = re.sub(r"^\s*/health\b", "", text, flags=re.IGNORECASE)
    text = _EMOJI_CODE.sub(" ", text)
    text = _SYMBOLS.sub(" ", text.replace("\u2060", ""))
    text = re.sub(r"\bbook\s+of\s+business\b", "book", text, flags=re.IGNORECASE)
    return " ".join(text.split())


# --- words that carry the question, never a name -----------------------------------------------------------------
_GRAMMAR = (
    "a about above across after against all am an and any anything are as at be been being below between biggest "
    "both but by can compare compared could days did do does doing done down during each else every everything "
    "explain few for from get give go going good got had has have having he her here him his how i if in into is "
    "it its just last least less let like list look looking lowest make me more most much my need new next no not "
    "now of off on one only or other our out over own past per please pls plz quick r really right see she should "
    "show since so some still such than that the their them then there these they thing things this those through "
    "to too top u under up us very vs was we were what whats when where which while who whom whose why will with "
    "within without would year you your ok okay hey hi hello thanks thank hmm summary overview pull check tell "
    "status update info details rundown quick state happening going doing lately currently today week weeks month "
    "months quarter quarters year years day side by versus v score scores scoring health healthy healthcheck "
    "card trend trends trending history historical changed change changes changing accounts account customers "
    "customer clients client book portfolio portfolios renewal renewals renew renewing renews red yellow green "
    "orange risk risks risky at-risk trouble critical drop drops dropped dropping decline declined declining fell "
    "fall falling slipping slipped points point pts nps touch touched touches touchpoint touchpoints contact "
    "contacted talked spoken login logins logged log qbr qbrs overdue late payment payments invoices invoice "
    "expansion expand upsell candidates ready plan plans strategy prep agenda success recovery opportunities "
    "opportunity whitespace segment segments region regions industry industries tier tiers stage stages lifecycle "
    "team everyone whole entire overall doing how's what's who's where's it's that's there's shape well ok "
    "struggling dragging root cause caused causing behind reason wrong happened driving drove stack against "
    "difference mean means calculated computed calculate compute weights weight model dimensions bands band "
    "recomputed refreshed updated often frequently detractors detractor promoters arr revenue biggest largest "
    "highest lowest worst best smallest ranked rank sorted sort many count number total cohort stage "
    "approach save rescue help prepare prepping meeting with csm csms focus opps prioritize prioritise low high "
    "poor bad good great lot lots bunch ones any anyone anybody hasn't haven't isn't aren't don't doesn't didn't "
    "issue issues problem problems hows whats w date dates end before after january february march april may june "
    "july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec q1 q2 q3 q4 "
    "average avg mean median churned churn left lost former ex time gainers improved improvers tomorrow cover "
    "plot chart graph build back playbook playbooks data use fresh set grow turned went except excluding non "
    "besides outside other scoring between above below under over healthiest unhealthiest riskiest weakest "
    "strongest happiest bottom break breakdown broken split spread per each usage active users adoption percent "
    "hasnt havent isnt arent dont doesnt didnt wont cant escalation escalations escalated exec execs executive "
    "sponsor sponsors champion champions downgrade downgraded downgrades churning churned export download csv "
    "excel xlsx spreadsheet file distribution distributed owned owns managed manages handled handles coming "
    "upcoming soon stake nobody noone anyone open opened ticket tickets seat seats utilisation utilization csat "
    "fewer feature features touches percent support deal scale range percentage proportion share drivers driver "
    "biggest main key promoters promoter zero most fewest least worried worry worrying concerned flags flag moved "
    "accts acct vertical verticals summarize summarise summarized summarised summarizing summarising attention "
    "call calls ring phone reach outreach prioritize prioritise product products missed miss fastest quickest "
    "volume volumes common improving engaged signal signals stale neglected untouched forgotten ignored quiet "
    "upgraded upgrade upgrades alert alerts alerted unacknowledged acknowledged unacked unresolved outstanding "
    "pending digest digests briefing brief early warning warnings quarterly report reports review better worse "
    "gross getting movers mover swings passed lapsed trending rise leadership board management meeting reasons "
    "engagement involvement likely lately recently"
)
GRAMMAR_WORDS = frozenset(_GRAMMAR.split())

_UNSUPPORTED_VERBS = re.compile(
    r"^(?:please\s+|can you\s+|could you\s+|pls\s+)?(?:delete|remove|drop\s+(?!in\b)|erase|wipe|change|update|edit|"
    r"rename|reassign|move|set|send|email|e-mail|message|dm|call|schedule|book\s+(?:a|an)\b|cancel|archive|merge|"
    r"remind|notify|ping|text|compose|draft\s+(?:an?\s+)?(?:\w+\s+)?(?:email|e-mail|message|note|letter|reply)|"
    r"import|upload|sync|push|write|post|create\s+(?:an?\s+)?(?:account|user|ticket|task)|add\s+(?!up)|"
    r"close|mark|assign|invite)\b",
    re.IGNORECASE,
)
_RETENTION = re.compile(
    r"\b(?:nrr|grr|ndr|net\s+(?:revenue\s+|dollar\s+)?retention|gross\s+(?:revenue\s+)?retention|"
    r"(?:revenue|dollar)\s+retention|ltv|lifetime\s+value|cac|pipeline|forecast|quota)\b",
    re.IGNORECASE,
)
_UNSUPPORTED_TOPICS = re.compile(
    r"\b(?:weather|stock\s+price|share\s+price|stock|poem|joke|recipe|lunch|news|salary|salaries|bitcoin|crypto|"
    r"sports?|movie|song|translate|salesforce|hubspot|gainsight|jira)\b",
    re.IGNORECASE,
)
_HELP = re.compile(
    r"^(?:help|\?|commands|usage|hi|hello|hey|yo|hiya|howdy|thanks|thank you|thx|ty|cheers|ok|okay|cool|great|nice|"
    r"good (?:morning|afternoon|evening))(?:\s+(?:there|healthbot|bot|again|so much))?[\s!.?]*$"
    r"|\bwhat (?:can|do|should) (?:you|i) (?:do|ask)\b(?!\s+(?:about|with|for|on|re|regarding)\b)"
    r"|\bhow (?:do|can|should) i use\b|\bhelp me\b(?!\s+prep)"
    r"|\bwhat can i ask\b|\bwhat do you do\b",
    re.IGNORECASE,
)
_MODEL = re.compile(
    r"\bhow\s+(?:is|are|do\s+you|does\s+(?:it|the\s+bot)|do\s+we)\s+(?:the\s+)?(?:health\s+)?(?:scores?\s+)?"
    r"(?:calculated|computed|worked\s+out|calculate|compute|work|determined|measure)"
    r"|\bhow\s+(?:do|does)\s+(?:you|it|the\s+bot)\s+(?:calculate|compute|score|measure)"
    r"|\bwhat\s+(?:does|do)\s+(?:an?\s+)?(?:red|yellow|green|orange|the\s+bands?|bands?|the\s+colou?rs?)\s+mean"
    r"|\bwhat\s+do\s+the\s+(?:bands|colou?rs|statuses)\s+mean|\bwhat\s+counts\s+as\s+(?:red|yellow|green|orange)"
    r"|\bweights?\b.*\bmodel\b|\bmodel\b.*\bweights?\b|\bdimensions?\s+of\s+the\s+(?:health\s+)?score"
    r"|\bwhat\s+are\s+the\s+(?:dimensions|weights|bands)\b|\b(?:scoring|health)\s+model\b"
    r"|\bwhat\s+(?:does|do|is)\s+(?:the\s+)?\w+(?:\s+\w+)?\s+dimensions?\b|\bdimensions?\b.*\b(?:measure|mean|made\s+of)"
    r"|\bwhat\s+(?:goes|feeds)\s+into\s+(?:the\s+)?(?:health\s+)?score"
    r"|\bis\s+(?:an?\s+)?(?:red|yellow|orange|green)\s+(?:worse|better)\s+than\b"
    r"|\bwhat(?:'s|\s+is)\s+(?:a\s+)?(?:good|bad|healthy|normal|ok)\s+(?:health\s+)?score\b"
    r"|\b(?:scale|range)\s+of\s+the\s+(?:health\s+)?score|\bscore\s+(?:scale|range)\b|\bscored\s+out\s+of\b"
    r"|\bhow\s+(?:often|frequently)\b.*\b(?:scores?|updated|recomputed|refreshed|recalculated)"
    r"|\bwhen\s+(?:are|is|do|does)\s+(?:the\s+)?(?:health\s+)?scores?\s+(?:recomputed|updated|refreshed|"
    r"recalculated|calculated|run)|\bpredict\w*\s+churn\b|\bhow\s+(?:accurate|reliable|good)\s+is\s+the\s+score",
    re.IGNORECASE,
)
_COMPARE = re.compile(
    r"\bvs\.?\b|\bversus\b|\bcompare\w*\b|\bstack\s+up\b|\bdifference\s+between\b|\bside\s+by\s+side\b"
    r"|\bbetter\s+than\b|\bworse\s+than\b|\bwhich\s+(?:one\s+)?is\s+(?:worse|better|healthier|riskier|weaker|stronger)\b",
    re.IGNORECASE,
)
_CHANGES = re.compile(
    r"\bhow\s+(?:has|have|did)\s+(?:[\w']+\s+){0,4}changed?\b|\bwhat(?:'s|\s+has|\s+have)?\s+changed\b|\bchanges?\s+(?:since|this|in|for)\b|\bwhat'?s\s+new\s+since\b"
    r"|\bany\s+changes\b|\bwhat\s+changed\b|\bwhat\s+moved\b|\bnew\s+signals?\b"
    r"|\b(?:biggest|top|largest)\s+(?:movers|swings|changes)\b|\bmovers\b|\b(?:who|which\s+\w+)\s+moved\s+the\s+most\b"
    r"|\bsignals?\s+(?:fired|triggered|raised|appeared)\b",
    re.IGNORECASE,
)
_TREND = re.compile(
    r"\btrend\w*\b|\bq[1-4]\s+(?:vs\.?|versus|and|to)\s+q[1-4]\b|\bquarter[- ]over[- ]quarter\b|\bqoq\b"
    r"|\bquarterly\s+(?:health\s+)?(?:report|review|summary|update)\b|\bhistory\b"
    r"|\bover\s+(?:the\s+)?(?:last|past)\s+\d*\s*(?:months?|year|quarters?)\b"
    r"|\bover\s+time\b|\bworr(?:y|ied|ying)\b|\bpatterns?\b",
    re.IGNORECASE,
)
_WHY = re.compile(
    r"\bwhy\b|\bwhat'?s?\s+(?:is\s+)?dragging\b|\broot\s+cause\b|\bwhat\s+(?:caused|is\s+causing|causes|drove|"
    r"is\s+driving|made)\b|\bwhat(?:'s|\s+is)\s+(?:wrong|going\s+on)\s+with\b|\bbehind\s+the\s+(?:drop|decline|"
    r"fall|dip)\b|\breason\s+for\b|\bwhat\s+happened\s+(?:to|with|at)\b|\bdriving\s+the\s+(?:drop|decline)\b"
    r"|\bexplain\s+the\s+(?:drop|decline|fall|dip)\b|\bwhats\s+going\s+on\s+with\b",
    re.IGNORECASE,
)
_PLANS: tuple[tuple[PlanKind, re.Pattern[str]], ...] = (
    (
        "qbr",
        re.compile(
            r"\bqbr\b.*\b(?:prep|agenda|deck|prepare|ready)|\b(?:prep|agenda|prepare)\w*\b.*\bqbr\b"
            r"|\bbusiness\s+review\b",
            re.IGNORECASE,
        ),
    ),
    ("success", re.compile(r"\bsuccess\s+plan\b|\baccount\s+plan\b", re.IGNORECASE)),
    (
        "renewal",
        re.compile(
            r"\brenewal\s+(?:strategy|plan|approach|playbook|prep)\b|\bapproach\b.*\brenewal\b"
            r"|\bhow\s+(?:do|should|can)\s+we\s+(?:win|secure|handle)\b.*\brenewal\b"
            r"|\bhow\s+(?:do|should|can|could)\s+(?:i|we)\s+(?:renew|re-sign|win\s+back|close\s+the\s+renewal)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "recovery",
        re.compile(
            r"\b(?:recovery|rescue|save|turnaround|get[- ]well)\s+plan\b|\bplan\s+to\s+(?:recover|"
            r"save|rescue)\b|\bhow\s+(?:do|can|should|could)\s+(?:we|i)\s+(?:save|recover|rescue|"
            r"turn\s+around)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "expansion",
        re.compile(
            r"\b(?:expansion|growth)\s+(?:opportunit\w*|opps?|options?|potential|plan|ideas)\b|\bupsell\s+(?:options?|"
            r"opportunit\w*|potential|ideas)\b|\bwhitespace\b|\bwhere\s+can\s+we\s+(?:grow|expand)\b"
            r"|\bcross-?sell\b",
            re.IGNORECASE,
        ),
    ),
)
_PORTFOLIO_WORDS = re.compile(
    r"\b(?:book|portfolio|overview|summary|breakdown|distribution|doing|looking|health|how'?s|how\s+(?:is|are)|"
    r"accounts|customers|cohort|tier|segment|region|industry)\b",
    re.IGNORECASE,
)
_LIST_WORDS = re.compile(r"\b(?:how\s+many|list|which|who|show\s+me\s+all|count|number\s+of)\b", re.IGNORECASE)
_TEAM = re.compile(
    r"\b(?:team|everyone|whole\s+(?:book|team|portfolio)|entire\s+(?:book|portfolio)|all\s+accounts|we\s+doing|"
    r"are\s+we|overall|company[- ]wide|org[- ]wide|the\s+book)\b",
    re.IGNORECASE,
)
# With one account named, these ask for a plan even without the word "plan".
_ACCOUNT_PLANS: tuple[tuple[PlanKind, re.Pattern[str]], ...] = (
    ("qbr", re.compile(r"\bqbr\b(?!s?\s+in\s+\d)", re.IGNORECASE)),
    (
        "renewal",
        re.compile(
            r"\brenew\w*\b.*\b(?:strategy|approach|plan|prepare|prep|handle|win|secure|negotiat\w*)\b"
            r"|\b(?:strategy|approach|plan|prepare|prep|handle|win|secure|negotiat\w*)\b.*\brenew",
            re.IGNORECASE,
        ),
    ),
    (
        "recovery",
        re.compile(
            r"\bback\s+(?:to\s+(?:green|health|healthy)|on\s+track)\b|\bturn\w*\s+(?:\w+\s+)?around\b"
            r"|\b(?:fix|improve|recover|rescue|save)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "expansion",
        re.compile(
            r"\bgrow\b|\bupsell\w*\b|\bexpand\w*\b|\bexpansion\b|\bcross-?sell\b|\bsell\s+(?:more|them)\b",
            re.IGNORECASE,
        ),
    ),
)
_MODEL_LOOSE = re.compile(
    r"\bdifference\s+between\s+(?:red|yellow|green|orange)\b|\bweights?\b|\bwhat\s+data\b.*\bscore"
    r"|\b(?:fresh|up\s+to\s+date|stale|last\s+updated|current)\b.*\bscores?\b|\bplaybooks?\b"
    r"|\bwhat\s+(?:goes|feeds)\s+into\b"
    r"|\bwhat\s+(?:triggers|causes|opens|raises)\s+(?:an?\s+)?alerts?\b|\bhow\s+do\s+alerts\s+work\b"
    r"|\bwhen\s+(?:do|does|is)\s+(?:an?\s+)?alerts?\b",
    re.IGNORECASE,
)
_NEWS = re.compile(
    r"\bwhat\s+happened\s+(?:this|last|since|today|yesterday)\b|\bwhat'?s\s+new\b|\b(?:turned|went|gone|became|"
    r"newly|moved\s+(?:to|into)|slipped\s+(?:to|into)|fell\s+(?:to|into)|dropped\s+(?:to|into))\s+(?:red|yellow|orange|green)\b"
    r"|\bnew\s+(?:red|yellow|orange)\s+accounts\b|\banything\s+new\b|\bchanged\s+(?:band|status|colou?r)s?\b"
    r"|\bwhat'?s\s+(?:changed|different)\b"
    r"|\b(?:went|gone|moved|slipped|dropped|fell|changed|turned)\s+from\s+(?:red|yellow|orange|green)\s+(?:to|into)\b"
    r"|\b(?:red|yellow|orange|green)\s+(?:to|->|→)\s+(?:red|yellow|orange|green)\b",
    re.IGNORECASE,
)
_PLOT = re.compile(r"\b(?:plot|chart|graph|visuali[sz]e)\b", re.IGNORECASE)
_CHURNED_LIST = re.compile(
    r"\bchurn\s+rate\b|\b(?:logo|gross|customer)\s+churn\b|\bchurned\b|\bformer\s+customers\b|\blost\s+customers\b|\bwho\s+(?:left|churned)\b"
    r"|\bcustomers\s+(?:we\s+)?lost\b|\bchurn\s+list\b",
    re.IGNORECASE,
)
_AVERAGE = re.compile(r"\b(?:average|avg|mean|median)\b", re.IGNORECASE)
_WHICH_CSM = re.compile(
    r"\b(?:which|what)\s+csms?\b|\bwho\s+(?:has|owns|carries)\s+the\s+most\b|\bby\s+csm\b|\bper\s+csm\b"
    r"|\bcsm\s+(?:breakdown|comparison|leaderboard)\b",
    re.IGNORECASE,
)
_FOCUS = re.compile(
    r"\bfocus\s+on\b|\bprioriti[sz]e\b|\bwhat\s+should\s+i\s+(?:do|work\s+on|look\s+at)\b"
    r"|\bwho\s+should\s+(?:i|we)\s+(?:call|contact|reach\s+out\s+to|see|visit|look\s+at)\b"
    # "any accounts I should call today?", "customers we need to reach out to"
    r"|\b(?:accounts|customers|clients)\s+(?:do\s+)?(?:i|we)\s+(?:should|must|need\s+to|ought\s+to|have\s+to)\s+"
    r"(?:call|ring|phone|contact|reach\s+out\s+to|check\s+in\s+(?:on|with)|look\s+at|prioriti[sz]e)\b"
    r"|\bwhere\s+should\s+i\s+start\b",
    re.IGNORECASE,
)
_MINE = re.compile(r"\b(?:my|mine|myself|i\s+own|i\s+have|for\s+me|me\s+own)\b", re.IGNORECASE)

_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "twenty": 20,
    "thirty": 30,
    "sixty": 60,
    "ninety": 90,
}


def _numbers(text: str) -> str:
    text = re.sub(r"\b(?:a|an)\s+(day|week|month|quarter|year)\b", r"1 \1", text, flags=re.IGNORECASE)
    return re.sub(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", lambda m: str(_NUMBER_WORDS[m.group(1)]), text)


def _days(amount: str, unit: str) -> int:
    n = int(amount)
    unit = unit.lower()
    if unit.startswith("w"):
        return n * 7
    if unit.startswith("m"):
        return n * 30
    if unit.startswith("q"):
        return n * 91
    if unit.startswith("y"):
        return n * 365
    return n


_SPAN = r"(\d+)\s*\+?\s*(days?|d|weeks?|wks?|months?|mos?|quarters?|years?)\b"
# "At risk of churning in the next 60 days": customers leave at renewal, so a churn window is a renewal window.
_RENEW = re.compile(
    r"\brenew\w*|\bup\s+for\s+renewal\b|\bchurn(?:ing)?\s+(?:in|within)\s+(?:the\s+)?(?:next|coming)\b",
    re.IGNORECASE,
)
_RENEW_SPAN = re.compile(r"(?:in|within|next|coming|upcoming)\s+(?:the\s+)?(?:next\s+)?" + _SPAN, re.IGNORECASE)
_ANY_SPAN = re.compile(_SPAN, re.IGNORECASE)
# "Accounts past their renewal date", "lapsed renewals": the date is behind us; "without a renewal date": none on file.
_RENEWAL_PASSED = re.compile(
    r"\b(?:past|passed|missed|behind|overdue\s+for)\s+(?:their\s+|the\s+|its\s+)?renewal(?:\s+dates?)?\b"
    r"|\brenewal\s+(?:dates?\s+)?(?:has\s+|have\s+)?(?:passed|lapsed|gone\s+by)\b|\b(?:lapsed|overdue)\s+renewals?\b",
    re.IGNORECASE,
)
_NO_RENEWAL_DATE = re.compile(
    r"\b(?:without|no|missing|lacking)\s+(?:a\s+|any\s+)?renewal\s+dates?\b"
    r"|\brenewal\s+dates?\s+(?:is\s+|are\s+)?(?:missing|blank|empty|unknown|not\s+set)\b",
    re.IGNORECASE,
)
_THIS_QUARTER = re.compile(
    r"\bthis\s+(?:quarter|q)\b|\bthis\s+qtr\b|\bby\s+(?:the\s+)?end\s+of\s+(?:the\s+)?quarter", re.IGNORECASE
)
_NEXT_MONTH = re.compile(r"\bnext\s+month\b", re.IGNORECASE)
_NEXT_QUARTER = re.compile(r"\bnext\s+(?:quarter|q|qtr)\b", re.IGNORECASE)
_YEAR_END = re.compile(r"\b(?:end\s+of\s+(?:the\s+)?year|this\s+year|year[- ]end|eoy)\b", re.IGNORECASE)
_QUARTER_NAME = re.compile(r"\bq([1-4])\b", re.IGNORECASE)
_MONTHS_OF_YEAR = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAME = re.compile(
    r"\b(january|february|march|april|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|"
    r"jul|aug|sept?|oct|nov|dec)\b",
    re.IGNORECASE,
)
# "before the end of January", "by Q1": from today to the end of that month or quarter.
_BY_END = re.compile(r"\b(?:before|by|until|till|through|thru|up\s+to)\s+(?:the\s+)?(?:end\s+of\s+)?$", re.IGNORECASE)
_TOUCH = re.compile(
    r"\b(?:touch\w*|contact\w*|talk\w*|spoken|spoke|call(?:ed)?|reach\w*|engag\w*\s+with|heard)\b", re.IGNORECASE
)
_LOGIN = re.compile(r"\blog\s*-?\s*(?:ged\s+)?in\w*|\blogins?\b|\bsigned\s+in\b", re.IGNORECASE)
_QBR = re.compile(r"\bqbrs?\b|\bbusiness\s+reviews?\b", re.IGNORECASE)
_MISSED_QBR = re.compile(
    r"\bmissed\s+(?:a\s+|their\s+|the\s+)?qbrs?\b|\bqbr\s+missed\b"
    r"|\b(?:needs?|due\s+for|overdue\s+for)\s+(?:a\s+|an\s+|their\s+)?qbrs?\b|\bqbrs?\s+(?:is\s+|are\s+)?(?:over)?due\b",
    re.IGNORECASE,
)
_NPS = re.compile(r"\bnps\b", re.IGNORECASE)
_NPS_BOUND = re.compile(
    r"\bnps\s*(?:scores?\s*)?(?:(?:is|are|was|were)\s+)?(?:(<=|=<|≤|at\s+or\s+below|of\s+at\s+most|at\s+most)\s*(\d+)"
    r"|(<|under|below|less\s+than|"
    r"lower\s+than)\s*(\d+)|(?:of\s+)?(\d+)\s+or\s+(?:less|lower|below|under))",
    re.IGNORECASE,
)
_DETRACTORS = re.compile(r"\bdetractors?\b|\blow\s+nps\b|\bbad\s+nps\b|\bpoor\s+nps\b|\bunhappy\b", re.IGNORECASE)
_OVERDUE = re.compile(
    r"\b(?:overdue|late|past[- ]due|unpaid|outstanding)\s+(?:payments?|invoices?|bills?)\b|\bpayments?\s+(?:overdue|"
    r"late|past[- ]due|issues?)\b|\blate\s+pay\w*|\bpaying\s+late\b|\bnot\s+paid\b|\bhaven'?t\s+paid\b"
    r"|\boverdue\s+payment|\bpayment\s+overdue\b|\bbilling\s+issues?\b",
    re.IGNORECASE,
)
_DROPPED_BY = re.compile(
    r"\b(?:dropped|drop|down|fell|fallen|declined|lost|slipped|decreased)\s+(?:by\s+|of\s+)?(?:more\s+than\s+|over\s+|"
    r"at\s+least\s+|>=?\s*)?(\d+)\s*\+?\s*(?:or\s+more\s+)?(?:points?|pts?|\+)?",
    re.IGNORECASE,
)
_GAINED_BY = re.compile(
    r"\b(?:improved|improving|up|gained|rose|risen|climbed|increased|jumped)\s+(?:by\s+)?(?:more\s+than\s+|over\s+|"
    r"at\s+least\s+|>=?\s*)?(\d+)\s*\+?\s*(?:or\s+more\s+)?(?:points?|pts?|\+)?",
    re.IGNORECASE,
)
_DROP_POINTS = re.compile(r"(\d+)\s*\+\s*(?:points?|pts?)|(\d+)\s+or\s+more\s+points", re.IGNORECASE)
_DROP_SORT = re.compile(
    r"\bdropped\s+the\s+most\b|\bbiggest\s+(?:score\s+)?(?:drops?|declines?|falls?|fallers)\b|\b(?:top|largest)\s+"
    r"(?:\d+\s+)?(?:score\s+)?(?:drops?|declines?|fallers)\b|\bdrops\b|\bfell\s+the\s+most\b|\bmost\s+declin\w+\b",
    re.IGNORECASE,
)
_SCORE_WORD = r"(?:scor\w*|health(?:\s+score)?)\s+(?:of\s+)?"
_SCORE_BELOW = re.compile(
    _SCORE_WORD + r"(?:is\s+)?(?:under|below|less\s+than|lower\s+than|<=?)\s*(\d+)", re.IGNORECASE
)
_SCORE_ABOVE = re.compile(
    _SCORE_WORD + r"(?:is\s+)?(?:over|above|more\s+than|higher\s+than|greater\s+than|>=?)\s*(\d+)", re.IGNORECASE
)
# "Which accounts are below 60", "anything over 80": a number with no unit after it, about accounts, is a score.
_NO_UNIT = (
    r"(?!\s*(?:%|percent|days?|weeks?|months?|years?|tickets?|log-?ins?|users?|seats?|escalations?|nps|csat|points?"
    r"|pts))"
)


def _bare_score(comparators: str) -> re.Pattern[str]:
    return re.compile(
        r"\b(?:accounts|customers|clients|which|who|anyone|anything)\s+"
        rf"(?:are\s+|is\s+|that\s+are\s+|currently\s+|now\s+)*(?:{comparators})\s+(\d{{1,3}})\b{_NO_UNIT}",
        re.IGNORECASE,
    )


_BARE_BELOW = _bare_score(r"under|below|less\s+than|lower\s+than")
_BARE_ABOVE = _bare_score(r"over|above|more\s+than|higher\s+than")
_SENTIMENT_FALL = re.compile(
    r"\b(?:declining|falling|dropping|worsening|lower|decreasing)\s+nps\b|\bnps\s+(?:has\s+|is\s+)?(?:declin\w*|drop\w*"
    r"|fell|fall\w*|down|decreas\w*|worsen\w*)",
    re.IGNORECASE,
)
_STALE = re.compile(
    r"\b(?:stale|neglected|untouched|forgotten|ignored|quiet)\s+(?:accounts|customers|clients)\b", re.IGNORECASE
)
# "What alerts are open", "accounts with an alert", but not "what triggers an alert" or "how do alerts work".
_ALERTS = re.compile(
    r"\balerts\b|\balerted\b|\b(?:with|has|have|had|got)\s+(?:an?\s+)?(?:open\s+|active\s+|unacknowledged\s+)?alert\b",
    re.IGNORECASE,
)
_ABOUT_ALERTS = re.compile(
    r"\bhow\s+(?:do|does|are)\b|\bwhat\s+(?:triggers|causes|opens|raises|sends)\b", re.IGNORECASE
)
_UNACKNOWLEDGED = re.compile(
    r"\b(?:unacknowledged|un-acknowledged|unacked|not\s+(?:yet\s+)?acknowledged|nobody\s+(?:has\s+)?acknowledged"
    r"|no\s+one\s+(?:has\s+)?acknowledged|without\s+an?\s+(?:ack|acknowledgement))\b",
    re.IGNORECASE,
)
# "Show me the digest", "today's digest for Sarah", "morning briefing": the early-warning digest, as sent.
_DIGEST = re.compile(
    r"\bdigests?\b|\b(?:morning|daily)\s+(?:briefing|brief|summary|report|update|email)\b|\bearly[- ]warnings?\b",
    re.IGNORECASE,
)
_PLAN_UP = re.compile(r"\bupgraded\b|\b(?:plan|tier)\s+upgrades?\b|\bupgrades\b", re.IGNORECASE)
_SCORE_BETWEEN = re.compile(_SCORE_WORD + r"between\s+(\d+)\s+and\s+(\d+)", re.IGNORECASE)
_SCORE_OR_ABOVE = re.compile(r"\bscor\w*\s+(?:of\s+)?(\d+)\s+or\s+(?:above|more|higher|better|over)\b", re.IGNORECASE)
_SCORE_OR_BELOW = re.compile(r"\bscor\w*\s+(?:of\s+)?(\d+)\s+or\s+(?:below|less|lower|under|worse)\b", re.IGNORECASE)
_CROSSED_BELOW = re.compile(
    r"\b(?:fell|fallen|dropped|slipped|went|gone|dipped)\s+(?:below|under)\s+(\d+)\b", re.IGNORECASE
)
_BY_RENEWAL = re.compile(
    r"\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+by\s+(?:the\s+)?renewals?(?:\s+dates?)?\b|\bby\s+renewal\s+dates?\b",
    re.IGNORECASE,
)
# An amount of money: "$50k", "100k", "1.2m", "250000" (a bare number under 1,000 is no ARR).
_AMOUNT = r"(\$\s*\d+(?:\.\d+)?\s*[km]?|\d+(?:\.\d+)?\s*[km]\b|\d{4,})"
_ARR_ABOVE = re.compile(r"(?:over|above|more\s+than|at\s+least|bigger\s+than|>=?)\s*" + _AMOUNT, re.IGNORECASE)
_ARR_BELOW = re.compile(r"(?:under|below|less\s+than|smaller\s+than|<=?)\s*" + _AMOUNT, re.IGNORECASE)
_ARR_BETWEEN = re.compile(r"\bbetween\s+" + _AMOUNT + r"\s+(?:and|to|-)\s+" + _AMOUNT, re.IGNORECASE)


def _money(typed: str) -> float:
    amount = typed.replace("$", "").replace(" ", "").lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(amount[-1:], 1)
    return float(amount.rstrip("km")) * scale


_GAIN_SORT = re.compile(
    r"\b(?:have|has|that|who|which)\s+(?:\w+\s+)?improved\b|\bimproving\s+(?:accounts|customers)\b"
    r"|\b(?:accounts|customers)\s+(?:that\s+are\s+|are\s+)?improving\b|\btrending\s+up\b|\bon\s+the\s+(?:rise|up)\b|\bimproved\s+the\s+most\b|\bbiggest\s+(?:gains?|gainers|improvements?|risers)\b|\b(?:top|most)\s+"
    r"(?:\d+\s+)?(?:gainers|improvers|improved)\b|\bgainers\b|\bmost\s+improved\b",
    re.IGNORECASE,
)
_DECLINING = re.compile(r"\b(?:declining|dropping|falling|slipping|trending\s+down|going\s+down)\b", re.IGNORECASE)
_EXPANSION_READY = re.compile(
    r"\bexpansion[- ]ready\b|\bready\s+(?:to|for)\s+(?:expand|expansion|grow|upsell)\w*|\bexpansion\s+candidates?\b"
    r"|\bupsell\s+(?:candidates?|targets?|ready)\b|\bexpansion\b|\bupsell\w*\b|\bgrowth\s+(?:candidates|accounts)",
    re.IGNORECASE,
)
_AT_RISK = re.compile(
    r"\blow[- ]health\b|\bunhealthy\b|\bat[- ]?risk\b|\brisky\b|\bin\s+trouble\b|\bcritical\b|\bon\s+fire\b"
    r"|\bchurn\s+risks?\b|\brenewal\s+risks?\b|\brisky\s+renewals?\b"
    r"|\blikely\s+to\s+churn\b|\bneeds?\s+attention\b",
    re.IGNORECASE,
)
_MOST_AT_RISK = re.compile(
    r"\bmost\s+(?:likely\s+to\s+(?:churn|leave)|at[- ]risk|risky|in\s+danger)\b|\bhighest\s+(?:churn\s+)?risk\b",
    re.IGNORECASE,
)
_ONE_SUPERLATIVE = re.compile(
    r"\b(?:riskiest|worst|weakest|unhealthiest|lowest[- ]scoring|biggest|largest|healthiest|best|strongest)\s+"
    r"(?:account|customer|client)\b(?!s)",
    re.IGNORECASE,
)
_WORRIED_ABOUT = re.compile(
    r"\b(?:accounts|customers|clients|who|which)\b.*\bworr(?:y|ied|ying)\b|\bworr(?:y|ied|ying)\s+about\s+"
    r"(?:which|what|any)\b"
    r"|\bneeds?\s+(?:a\s+call|a\s+check-?in|outreach|help)\b",  # "which customers need a call"
    re.IGNORECASE,
)
_HEALTHY_LIST = re.compile(r"\bhealthy\s+(?:accounts|customers)\b|\bthriving\b", re.IGNORECASE)
_LIMIT = re.compile(
    r"\btop\s+(\d+)\b|\b(\d+)\s+(?:lowest|highest|biggest|largest|worst|best|smallest|riskiest|weakest)\b"
    r"|\b(?:first|show)\s+(\d+)\b|\b(?:bottom|lowest|highest|biggest|largest|worst|best|smallest|riskiest|weakest"
    r"|healthiest|unhealthiest)\s+(\d+)\b",
    re.IGNORECASE,
)
_BY_ARR = re.compile(
    r"\bby\s+(?:arr|revenue|size|value)\b|\bbiggest\b|\blargest\b|\bhighest\s+arr\b|\bmost\s+arr\b"
    r"|\btop\s+\d*\s*accounts\b",
    re.IGNORECASE,
)
_LOWEST = re.compile(
    r"\blowest\b|\bworst\b|\bweakest\b|\bunhealthiest\b|\briskiest\b|\bbottom\b"
    r"|\b(?:sort(?:ed)?|order(?:ed)?|rank(?:ed)?)\s+by\s+(?:health\s+)?score\b",  # lowest first, as lists are
    re.IGNORECASE,
)
_HIGHEST_SCORE = re.compile(
    r"\bhighest\s+(?:health\s+)?scor\w*|\bhealthiest\b|\bbest\s+(?:scor\w*|accounts)\b", re.IGNORECASE
)
_WINDOW = (
    (re.compile(r"\b(?:since\s+)?yesterday\b|\b(?:last|past)\s+(?:24\s+hours|day)\b", re.IGNORECASE), 1),
    (re.compile(r"\b(?:since\s+)?(?:last|this|past)\s+week\b|\bweek\s+over\s+week\b|\b7\s+days\b", re.IGNORECASE), 7),
    (
        re.compile(
            r"\b(?:since\s+)?(?:last|this|past)\s+month\b|\bmonth\s+over\s+month\b|\b30\s+days\b", re.IGNORECASE
        ),
        30,
    ),
    (re.compile(r"\b(?:since\s+)?(?:last|this|past)\s+quarter\b", re.IGNORECASE), 91),
)
_MONTHS = re.compile(
    r"\b(\d+)[\s-]*months?\b|\b(?:past|last)\s+(year|12\s+months)\b|\b(\d+)[\s-]*years?\b", re.IGNORECASE
)
_SIGNAL_PHRASES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (
        re.compile(
            r"\b(?:usage|logins?|log-ins|active\s+users?|users)\s+(?:\w+\s+)?(?:decline\w*|drop\w*|down|fall\w*|fell"
            r"|dipp?\w*|shrink\w*|plummet\w*|tank\w*|decreas\w*)"
            r"|\b(?:declining|dropping|falling|shrinking|decreasing|lower|less)\s+(?:usage|logins?|active\s+users)",
            re.IGNORECASE,
        ),
        ("usage_drop", "usage_decline"),
    ),
    (re.compile(r"\bescalations?\b", re.IGNORECASE), ("multiple_escalations",)),
    (re.compile(r"\b(?:exec\w*|executive)\s+sponsor\w*", re.IGNORECASE), ("exec_sponsor_change",)),
    (
        re.compile(
            r"\bchampion\s+(?:left|leaving|gone|departed|churned)|\blost\s+(?:their|the|a)\s+champion", re.IGNORECASE
        ),
        ("champion_left",),
    ),
    (re.compile(r"\bdowngrade\w*\b", re.IGNORECASE), ("plan_downgrade",)),
    (re.compile(r"\bacqui\w+\b", re.IGNORECASE), ("acquisition_risk",)),
    (
        re.compile(r"\bticket\s+surge|\bspike\s+in\s+tickets|\btickets?\s+spik", re.IGNORECASE),
        ("ticket_surge_with_usage_drop",),
    ),
    (re.compile(r"\bfew\s+touchpoints|\btoo\s+few\s+touch", re.IGNORECASE), ("few_touchpoints",)),
    (re.compile(r"\bgradual\s+decline\b|\bslow\s+decline\b", re.IGNORECASE), ("gradual_decline",)),
)
_ACCOUNT_ID = re.compile(r"\b[A-Za-z]{2,6}-\d{2,}\b")
# "health by region", "breakdown per segment", "split by CSM": the book, one row a value of that kind.
_BREAKDOWN = re.compile(
    r"\b(?:by|per|across|each|every|split\s+by|broken\s+down\s+by)\s+(?:the\s+)?(?:(plan\s+tiers?|tiers?)|(segments?)"
    r"|(regions?|geos?|geograph(?:y|ies))|(industr(?:y|ies)|verticals?)|(csms?|owners?|reps?))\b"
    r"|\b(?:(tier)|(segment)|(region)|(industry)|(csm))\s+(?:breakdown|split|comparison|view)\b"
    r"|\bwhich\s+(?:(plan\s+tier|tier)|(segment)|(region|geo)|(industry|industries|vertical)|(csm|rep|owner))s?\b"
    # "who's got the most red accounts", "who has the most ARR at risk": a CSM, by their book
    r"|\b()()()()(who)(?:'s|\s+has|\s+have|\s+is)\s+(?:got\s+|carrying\s+|holding\s+|managing\s+)?the\s+"
    r"(?:most|fewest|least|biggest|largest)\s+(?:(?:red|yellow|orange|green|at[- ]risk|healthy|declining)\s+)?"
    r"(?:accounts|customers|clients|arr|revenue|risk|book|portfolio)\b"
    # "CSM with the most red accounts", "top CSMs by ARR at risk": one row a CSM, ranked
    r"|\b(?:top|bottom)\s+(?:(plan\s+tier|tier)|(segment)|(region|geo)|(industry|vertical)|(csm|rep|owner))s?\s+"
    r"(?:by|for|on)\b"
    r"|\b(?:(plan\s+tier|tier)|(segment)|(region|geo)|(industry|vertical)|(csm|rep|owner))s?\s+with\s+the\s+"
    r"(?:most|fewest|least|highest|lowest|biggest|largest)\b",
    re.IGNORECASE,
)
_BREAKDOWN_KINDS = ("plan_tier", "segment", "region", "industry", "csm")
# "which CSM has the most red accounts", "who's got the most ARR at risk", "which segment has the lowest average
# score": what the groups are ranked by, after the superlative.
_RANK = re.compile(
    r"\b(most|highest|biggest|largest|greatest|top|fewest|least|lowest|smallest|worst|bottom|best)\b(.*)", re.IGNORECASE
)
_FEWEST = ("fewest", "least", "lowest", "smallest", "worst", "bottom")


def _only_counted(filters: dict[str, Any]) -> bool:
    """Whether a breakdown's figures answer the question: "who has the most accounts renewing this quarter" or
    "…the most declining accounts" asks about what its rows do not count, so it is not ranked. (A band is counted;
    an order by ARR or score, which "the most ARR" or "the lowest score" also sets, is what the ranking does.)"""
    narrowed = any(value for key, value in filters.items() if key not in ("bands", "sort"))
    return not narrowed and filters.get("sort") != "drop"


def _rank(low: str, bands: tuple[str, ...]) -> tuple[str, bool] | None:
    """What a breakdown is ranked by ("band:Red" for a band's count, "arr_at_risk", "arr", "at_risk", "accounts",
    "average"), and whether the most (the highest, the best) comes first; None when the question ranks nothing."""
    match = _RANK.search(low)
    if match is None:
        return None
    most, rest = match.group(1).lower() not in _FEWEST, match.group(2)
    if re.search(r"\b(?:arr|revenue|dollars|money|book|portfolio)\b", rest):
        return ("arr_at_risk" if re.search(r"\brisk", rest) else "arr", most)
    if re.search(r"\b(?:average|avg|score|scores|health)\b", rest) and not re.search(r"\baccounts?\b", rest):
        return ("average", most)
    if bands and bands[0] != "@risk" and re.search(r"\b(?:accounts?|customers?|clients?|logos?)\b", rest):
        return (f"band:{bands[0]}", most)
    if "@risk" in bands or re.search(r"\brisk\b|\brisky\b", rest):
        return ("at_risk", most)
    if re.search(r"\b(?:accounts?|customers?|clients?|logos?)\b", rest):
        return ("accounts", most)
    if re.search(r"\b(?:doing|shape|performing)\b", low):  # "which segment is doing worst"
        return ("average", most)
    return None


def _breakdown(low: str) -> str | None:
    match = _BREAKDOWN.search(low)
    if match is None:
        return None
    group = next(i for i, g in enumerate(match.groups()) if g)
    return _BREAKDOWN_KINDS[group % len(_BREAKDOWN_KINDS)]


# --- names -------------------------------------------------------------------------------------------------------
@dataclass
class _Words:
    """The question's words (folded, possessives dropped), and which of them a name or phrase has claimed."""

    words: list[str]
    raw: list[str]  # as typed, for saying back
    used: list[bool]

    @classmethod
    def of(cls, text: str) -> _Words:
        raw = re.findall(r"[A-Za-z]{2,6}-\d{2,}|[\w&][\w&']*", text)
        words = [re.sub(r"(?:'s|s')$", "", w.casefold()).replace("'", "") for w in raw]
        return cls(words, raw, [False] * len(words))

    def claim(self, start: int, end: int) -> None:
        for i in range(start, end):
            self.used[i] = True

    def unclaimed(self) -> str:
        """The words no name claimed, as typed: what a topic the bot refuses ("NRR", "pipeline") is looked for in,
        so that an account called "Pipeline Partners" is still an account."""
        return " ".join(word for word, used in zip(self.raw, self.used, strict=True) if not used)

    def free_runs(self) -> list[tuple[int, int]]:
        """Stretches of unclaimed words that are not question grammar: where an unknown name may be."""
        runs, start = [], None
        for i, word in enumerate(self.words):
            free = not self.used[i] and word not in GRAMMAR_WORDS and not word[:1].isdigit() and len(word) > 1
            if free and start is None:
                start = i
            if not free and start is not None:
                runs.append((start, i))
                start = None
        if start is not None:
            runs.append((start, len(self.words)))
        return runs


def _claim_phrases(
    words: _Words, lookup: Mapping[str, Sequence[str]], max_words: int
) -> list[tuple[int, Sequence[str]]]:
    """Longest-first exact matches of `lookup`'s keys among unclaimed words: (position, values)."""
    found: list[tuple[int, Sequence[str]]] = []
    i = 0
    while i < len(words.words):
        for size in range(min(max_words, len(words.words) - i), 0, -1):
            if any(words.used[i : i + size]):
                continue
            phrase = " ".join(words.words[i : i + size])
            if phrase in lookup:
                found.append((i, lookup[phrase]))
                words.claim(i, i + size)
                i += size - 1
                break
        i += 1
    return found


def _find_accounts(
    words: _Words, vocab: Vocabulary, ambiguous: list[tuple[str, ...]]
) -> tuple[list[tuple[int, str]], list[tuple[str, date]]]:
    ids: list[tuple[int, str]] = []
    churned: list[tuple[int, tuple[str, date]]] = []
    for i, word in enumerate(words.words):  # account IDs: "ACCT-4521"
        if word in vocab.account_ids and not words.used[i]:
            ids.append((i, vocab.account_ids[word]))
            words.claim(i, i + 1)
    for position, found in _claim_phrases(words, vocab.account_names, vocab.max_name_words):
        if len(found) > 1:  # two customers share the name: the answerer asks which, by ID
            ambiguous.append(tuple(found))
        ids.append((position, found[0]))
    churned_lookup = {name: [name] for name in vocab.churned}
    for position, found in _claim_phrases(words, churned_lookup, vocab.max_name_words):
        churned.append((position, vocab.churned[found[0]]))
    # "DataMax" typed "Data Max", or two words run together: the squashed name.
    for i in range(len(words.words)):
        for size in (2, 3):
            if i + size <= len(words.words) and not any(words.used[i : i + size]):
                key = "".join(words.words[i : i + size])
                if key in vocab.squashed:
                    ids.append((i, vocab.squashed[key][0]))
                    words.claim(i, i + size)
    return ids, [c for _, c in sorted(churned)]


def _first_word_accounts(words: _Words, vocab: Vocabulary) -> list[tuple[int, str]]:
    """ "Acme", "Keystone": a name's first word, when only one account starts with it and it is no common word.
    Read after CSMs and scopes, so "Asia Pacific" is a region before "Pacific" is Pacific Rim Foods."""
    found = []
    for i, word in enumerate(words.words):
        if words.used[i] or word in GRAMMAR_WORDS or len(word) < 4:
            continue
        owners = vocab.first_words.get(word, ())
        if len(owners) == 1:
            found.append((i, owners[0]))
            words.claim(i, i + 1)
    return found


def _fuzzy_account(words: _Words, vocab: Vocabulary, start: int, end: int) -> str | None:
    """A close misspelling of an account's name within words[start:end] ("Datamx", "Redwod Clinics")."""
    names = list(vocab.squashed)
    best: tuple[float, str, int, int] | None = None
    for size in range(min(end - start, vocab.max_name_words), 0, -1):
        for i in range(start, end - size + 1):
            typed = "".join(words.words[i : i + size])
            if len(typed) < 5:
                continue
            ranked = process.extract(typed, names, scorer=fuzz.ratio, limit=2, score_cutoff=_CLEAR_WINNER)
            if not ranked:
                continue
            top = ranked[0]
            runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
            # Close enough, or a little less close but far ahead of any other name ("globaltek").
            clear = top[1] >= _ACCOUNT_FOUND or (len(typed) >= 6 and top[1] - runner_up >= _CLEAR_MARGIN)
            if clear and (best is None or top[1] > best[0]):
                best = (top[1], top[0], i, i + size)
    if best is None:
        return None
    words.claim(best[2], best[3])
    return vocab.squashed[best[1]][0]


def _fuzzy_csm(words: _Words, vocab: Vocabulary) -> str | None:
    """A CSM's full name misspelt ("Sara Chen"), in a stretch of two or three unexplained words."""
    names = {fold(c.name): c.name for c in vocab.csms}
    for start, end in words.free_runs():
        for size in (3, 2):
            for i in range(start, end - size + 1):
                typed = " ".join(words.words[i : i + size])
                hit = process.extractOne(typed, list(names), scorer=fuzz.ratio, score_cutoff=85)
                if hit:
                    words.claim(i, i + size)
                    return names[hit[0]]
    return None


def _find_csm(words: _Words, text: str, vocab: Vocabulary) -> tuple[str | None, list[Miss]]:
    for match in _USER.finditer(text):
        csm = vocab.csm_by_slack_id(match.group(1))
        if csm is not None:
            for i, word in enumerate(words.words):
                if word == match.group(1).casefold():
                    words.claim(i, i + 1)
            return csm.name, []
    full = {fold(c.name): [c.name] for c in vocab.csms}
    hits = _claim_phrases(words, full, 3)
    if hits:
        return hits[0][1][0], []
    firsts = _first_names(vocab)
    for i, word in enumerate(words.words):
        if word not in firsts and word.endswith("s") and word[:-1] in firsts:
            word = word[:-1]  # "Kenjis accounts": the possessive typed without its apostrophe
        if words.used[i] or word not in firsts:
            continue
        owners = firsts[word]
        words.claim(i, i + 1)
        if len(owners) == 1:
            return owners[0], []
        return None, [Miss("csm", words.raw[i], tuple(owners))]
    return None, []


def _first_names(vocab: Vocabulary) -> dict[str, list[str]]:
    """Each CSM first name (folded) and the CSMs who have it."""
    firsts: dict[str, list[str]] = {}
    for c in vocab.csms:
        parts = fold(c.name).split()
        if parts:
            firsts.setdefault(parts[0], []).append(c.name)
    return firsts


def _other_csms(words: _Words, text: str, vocab: Vocabulary, first: str) -> list[str]:
    """More CSMs named after the first ("compare Sarah and Kenji", "<@U1> vs <@U2>"): full names, Slack mentions,
    first names that are one CSM's."""
    names = [first]
    for match in _USER.finditer(text):
        csm = vocab.csm_by_slack_id(match.group(1))
        if csm is not None and csm.name not in names:
            names.append(csm.name)
    for _, found in _claim_phrases(words, {fold(c.name): [c.name] for c in vocab.csms}, 3):
        if found[0] not in names:
            names.append(found[0])
    firsts = _first_names(vocab)
    for i, word in enumerate(words.words):
        owners = firsts.get(word, [])
        if not words.used[i] and len(owners) == 1 and owners[0] not in names:
            names.append(owners[0])
            words.claim(i, i + 1)
    return names[1:]


def _possessive_slots(text: str) -> list[str]:
    """Words in the places a person's name goes: "X's accounts", "does X have", "accounts for X"."""
    slots = []
    for pattern in (
        r"\b([A-Za-z][\w\-]*(?:\s+[A-Z][\w\-]*)?)'s?\s+(?:\w+\s+){0,2}(?:accounts|book|portfolio|renewals|customers|"
        r"accts)\b",
        r"\bdo(?:es)?\s+([A-Za-z][\w\-]*(?:\s+[A-Z][\w\-]*)?)\s+(?:have|own)\b",
        r"\b(?:accounts|accts|book|portfolio|renewals)\s+(?:for|of|owned\s+by|managed\s+by)\s+([A-Za-z][\w\-]*"
        r"(?:\s+[A-Z][\w\-]*)?)\s*[?!.]*$",
    ):
        slots += [m.group(1) for m in re.finditer(pattern, text)]
    return slots


def _csm_from_slot(words: _Words, text: str, vocab: Vocabulary) -> tuple[str | None, list[Miss]]:
    """A CSM named only loosely ("Sarha's red accounts", "Sara Chen"), or a name that is nobody's."""
    names = [c.name for c in vocab.csms]
    firsts = {fold(n).split()[0]: n for n in names if n.split()}
    for slot in _possessive_slots(text):
        folded = fold(slot)
        if not folded or all(w in GRAMMAR_WORDS for w in folded.split()) or _claimed(words, folded.split()):
            continue
        hit = process.extractOne(folded, [fold(n) for n in names], scorer=fuzz.ratio, score_cutoff=_CSM_FOUND)
        first = process.extractOne(folded.split()[0], list(firsts), scorer=fuzz.ratio, score_cutoff=_CSM_FOUND)
        chosen = names[hit[2]] if hit else firsts[first[0]] if first else None
        slot_words = folded.split()
        for i in range(len(words.words) - len(slot_words) + 1):
            if words.words[i : i + len(slot_words)] == slot_words:
                words.claim(i, i + len(slot_words))
        if chosen:
            return chosen, []
        ranked = process.extract(folded, names, scorer=fuzz.WRatio, limit=3, score_cutoff=_SUGGEST)
        return None, [Miss("csm", slot.strip(), tuple(n for n, _, _ in ranked) or tuple(names[:5]))]
    return None, []


_KIND_WORDS = {
    "plan_tier": ("tier", "plan", "plans", "tiers"),
    "segment": ("segment", "segments"),
    "region": ("region", "regions"),
    "industry": ("industry", "industries", "vertical"),
    "lifecycle": ("stage", "lifecycle", "phase"),
}


def _kind_said(words: _Words, position: int, kind: str, value: str, vocab: Vocabulary) -> str:
    """A value two kinds share ("Enterprise": a segment and a plan tier) is the kind named beside it."""
    end = position + len(fold(value).split())
    near = set(words.words[max(0, position - 2) : position] + words.words[end : end + 2])
    for other, said in _KIND_WORDS.items():
        if other != kind and value in vocab.scopes.get(other, []) and near & set(said):
            return other
    return kind


def _kind_named(words: _Words, position: int, size: int, kind: str) -> bool:
    """Whether the kind's own word ("stage", "segment", …) is said beside the value at `position`."""
    near = set(words.words[max(0, position - 2) : position] + words.words[position + size : position + size + 2])
    return bool(near & set(_KIND_WORDS.get(kind, ())))


def _claimed(words: _Words, typed: list[str]) -> bool:
    for i in range(len(words.words) - len(typed) + 1):
        if words.words[i : i + len(typed)] == typed and any(words.used[i : i + len(typed)]):
            return True
    return False


_SCOPE_SLOT = re.compile(
    r"\b(?:in\s+(?:the\s+)?)?([A-Z][\w\-]*(?:\s+[A-Z][\w\-]*)?)\s+(segment|region|industry|tier|plan|vertical|"
    r"market|stage|accounts|customers)\b|\b(segment|region|industry|tier|vertical)\s+([A-Z][\w\-]*(?:\s+[A-Z][\w\-]*)?)",
)


def _find_scope(words: _Words, text: str, vocab: Vocabulary) -> tuple[list[tuple[str, str]], list[Miss]]:
    lookup = vocab.scope_lookup()
    found = _claim_phrases(words, {k: [f"{v[0]}\t{v[1]}"] for k, v in lookup.items()}, 3)
    scope: list[tuple[str, str]] = []
    for position, values in found:
        kind, value = values[0].split("\t")
        kind = _kind_said(words, position, kind, value, vocab)
        size = len(fold(value).split())
        if kind == "lifecycle" and fold(value) in GRAMMAR_WORDS and not _kind_named(words, position, size, kind):
            # "up for renewal", "feature adoption": the word, not the lifecycle stage, unless a stage is said
            for i in range(position, position + size):
                words.used[i] = False
            continue
        if kind not in dict(scope):
            scope.append((kind, value))
        elif (kind, value) not in scope:
            scope.append((kind, value))  # "SMB and Enterprise": read by the caller as a comparison
    misses: list[Miss] = []
    for match in _SCOPE_SLOT.finditer(text):
        typed = match.group(1) or match.group(4)
        if not typed or fold(typed) in lookup or all(w in GRAMMAR_WORDS for w in fold(typed).split()):
            continue
        if _claimed(words, fold(typed).split()):
            continue
        if any(fold(typed) == fold(v) for _, v in scope):
            continue
        every = sorted({v for kind in vocab.scopes for v in vocab.scopes[kind]})
        ranked = process.extract(typed, every, scorer=fuzz.WRatio, limit=4, score_cutoff=_SUGGEST)
        misses.append(Miss("scope", typed, tuple(n for n, _, _ in ranked) or tuple(vocab.scopes.get("segment", []))))
        typed_words = fold(typed).split()
        for i in range(len(words.words) - len(typed_words) + 1):
            if words.words[i : i + len(typed_words)] == typed_words:
                words.claim(i, i + len(typed_words))
    return scope, misses


# --- the question ------------------------------------------------------------------------------------------------
def parse(text: str, vocab: Vocabulary, *, today: date | None = None) -> Question:
    """Read `text` (a mention, DM, `/health` text or `healthbot ask`) against the store's `vocab`.

    Returns:
        The Question; `wanted` is "unsupported" for something the bot cannot do, "help" for greetings and help.
    """
    del today  # windows are relative; the answerer dates them
    said = clean(text, people=frozenset(c.slack_id for c in vocab.csms if c.slack_id))
    plain = _numbers(said)
    low = plain.casefold()
    if not said or _HELP.search(said):
        return Question(text=said, wanted="help")

    words = _Words.of(plain)
    ambiguous: list[tuple[str, ...]] = []
    named, churned = _find_accounts(words, vocab, ambiguous)
    misses = [Miss("account", vocab.names_by_id[ids[0]], ids) for ids in ambiguous]
    csm, csm_misses = _find_csm(words, plain, vocab)
    misses += csm_misses
    others = _other_csms(words, plain, vocab, csm) if csm is not None else []
    # "my portfolio vs Kenji's": the asker's book beside the one named (the answerer puts the asker first).
    mine_beside = csm is not None and bool(_MINE.search(low)) and bool(_COMPARE.search(low))
    scope, scope_misses = _find_scope(words, plain, vocab)
    named += _first_word_accounts(words, vocab)
    accounts = list(dict.fromkeys(account_id for _, account_id in sorted(named)))  # in the order they were named
    kinds = [kind for kind, _ in scope]
    group_by = next((kind for kind in kinds if kinds.count(kind) > 1), None)
    if group_by is not None:
        scope = [(kind, value) for kind, value in scope if kind != group_by]
    elif others or mine_beside:
        group_by = "csm"
    else:
        group_by = _breakdown(low)
    misses += scope_misses
    if csm is None and not any(m.kind == "csm" for m in misses):
        csm, loose = _csm_from_slot(words, plain, vocab)
        misses += loose
    exclude: list[tuple[str, str]] = []
    for kind, value in list(scope):
        if _negated(low, [k for k, v in vocab.scope_lookup().items() if v == (kind, value)]):
            scope.remove((kind, value))
            exclude.append((kind, value))
    if csm is not None:
        first = fold(csm).split()[0]
        if _negated(low, [fold(csm), first]):
            exclude.append(("csm", csm))
            csm = None
    mine = (bool(_MINE.search(low)) and csm is None and not accounts) or mine_beside
    team = bool(_TEAM.search(low)) and csm is None and not mine

    asking = re.match(r"^(?:show|list|which|who|how|what)\b", low)
    unclaimed = words.unclaimed() if accounts else said
    if (
        _UNSUPPORTED_TOPICS.search(unclaimed)
        or _RETENTION.search(unclaimed)
        or (_UNSUPPORTED_VERBS.search(said) and not asking)
    ):
        return Question(
            text=said, wanted="unsupported", accounts=tuple(accounts), unsupported_reason=_unsupported_reason(unclaimed)
        )
    if _MODEL.search(low):
        return Question(text=said, wanted="model")

    # Fuzzy names, last: only in the stretches no other name or phrase explains. A CSM's full name first.
    if csm is None and not misses:
        csm = _fuzzy_csm(words, vocab)
    if not accounts and not churned:
        for start, end in words.free_runs():
            found = _fuzzy_account(words, vocab, start, end)
            if found:
                accounts.append(found)
    leftover = [" ".join(words.raw[s:e]) for s, e in words.free_runs()]
    if not scope and not accounts and leftover:
        unknown = _loose_scope(leftover, vocab) or _unknown_slot(leftover, plain, vocab)
        if unknown is not None:
            misses.append(unknown)

    filters = _filters(plain, low)
    notes = [f"I didn't recognise “{run}” and left it out." for run in leftover]
    percent = re.search(r"(\d+)\s*(?:%|percent)", low)
    if _SENTIMENT_FALL.search(low):
        notes.append(
            "I can't list a fall in NPS itself: these are the detractors (NPS 6 or less); each account's card shows "
            "its NPS then and now."
        )
    if "usage_drop" in filters["signals"] and percent:
        notes.append(
            f"I can't filter on a usage fall of {percent.group(1)}% exactly: these are the accounts the health model "
            "flags for a sudden usage drop or a usage decline."
        )
    months = _months(low)
    window = next((days for pattern, days in _WINDOW if pattern.search(low)), None)
    base = Question(
        text=said,
        wanted="card",
        accounts=tuple(accounts),
        churned=tuple(churned),
        csm=None if others or mine_beside else csm,
        csms=(csm, *others) if (others or mine_beside) and csm else (),
        mine=mine,
        team=team,
        scope=tuple(scope),
        misses=tuple(misses),
        group_by=group_by,
        rank=_rank(low, filters["bands"]) if group_by and _only_counted(filters) else None,
        exclude=tuple(exclude),
        notes=tuple(notes),
        months=months,
        window_days=window,
        **filters,
    )
    return _wanted(base, low, leftover)


_NEGATION = (
    r"(?:not\s+(?:in\s+|from\s+|for\s+)?|except\s+(?:for\s+|in\s+)?|excluding\s+|besides\s+|outside\s+(?:of\s+)?"
    r"|other\s+than\s+|non-?)(?:the\s+)?"
)


def _negated(low: str, phrases: list[str]) -> bool:
    """Whether a name is asked to be left out: "not in SMB", "except Sarah's", "excluding enterprise"."""
    return any(re.search(rf"\b{_NEGATION}{re.escape(p)}\b", low) for p in phrases if p)


def _loose_scope(leftover: list[str], vocab: Vocabulary) -> Miss | None:
    """Words that look like a segment, region or industry typed loosely ("fin services"): a question to ask back,
    never a scope to drop in silence."""
    values = sorted({v for kind in vocab.scopes for v in vocab.scopes[kind]})
    for run in leftover:
        if len(run) < 4:
            continue
        ranked = process.extract(run, values, scorer=fuzz.WRatio, limit=3, score_cutoff=80)
        if ranked:
            return Miss("scope", run, tuple(name for name, _, _ in ranked))
    return None


def _unknown_slot(leftover: list[str], plain: str, vocab: Vocabulary) -> Miss | None:
    """Unknown words where a scope goes ("red accounts in Foo", "Foo accounts"): asked back, never dropped."""
    for run in leftover:
        name = re.escape(run)
        slot = (
            rf"\b(?:in|for|from|at|within)\s+(?:the\s+)?{name}\b"
            rf"|\b{name}\s+(?:\w+\s+)?(?:accounts|customers|accts|segment|region|team|book|portfolio)\b"
        )
        if re.search(slot, plain, re.IGNORECASE):
            values = sorted({v for kind in vocab.scopes for v in vocab.scopes[kind]} | {c.name for c in vocab.csms})
            ranked = process.extract(run, values, scorer=fuzz.WRatio, limit=4, score_cutoff=_SUGGEST)
            return Miss("scope", run, tuple(name for name, _, _ in ranked) or tuple(vocab.scopes.get("segment", [])))
    return None


def _unsupported_reason(said: str) -> str:
    asked = re.sub(r"^(?:please|pls|can\s+you|could\s+you|would\s+you|will\s+you)\s+", "", said, flags=re.IGNORECASE)
    verb = asked.split()[0].casefold() if asked.split() else ""
    if _RETENTION.search(said):
        return (
            "I don't compute revenue retention, lifetime value or pipeline figures: I read customer health from your "
            "accounts and metrics. I can show logo churn (“churned accounts this year”) and the ARR at risk "
            "(“ARR at risk”)."
        )
    if _UNSUPPORTED_TOPICS.search(said):
        return "That's outside what I know: I read customer health from your accounts and metrics."
    if not verb:
        return "I can't do that."
    return f"I only read customer health — I can't {verb} on your behalf."


def _months(low: str) -> int | None:
    match = _MONTHS.search(low)
    if not match:
        return None
    if match.group(1):
        return int(match.group(1))
    if match.group(2):
        return 12
    return int(match.group(3)) * 12


def _filters(plain: str, low: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    bands: list[str] = []
    for band in ("red", "orange", "yellow", "green"):
        if re.search(rf"\b{band}s?\b", low):
            bands.append(band.capitalize())
    if _AT_RISK.search(low) and not bands:
        bands.append("@risk")
    if _HEALTHY_LIST.search(low) and not bands:
        bands.append("@top")
    out["bands"] = tuple(bands)
    signals: list[str] = []
    for pattern, keys in _SIGNAL_PHRASES:
        if pattern.search(low):
            signals += keys
    if _MISSED_QBR.search(low):
        signals.append("missed_qbr")
    if re.search(r"\bpayment\s+overdue\s+signal\b", low):
        signals = [s for s in signals if s != "payment_overdue"]
    out["signals"] = tuple(dict.fromkeys(signals))

    span = _ANY_SPAN.search(low)
    span_days = _days(span.group(1), span.group(2)) if span else None
    renewal_stage = re.search(r"\brenewal\s+(?:stage|phase|cohort)\b", low) and not re.search(
        r"renew(?:ing|s|als)\b", low
    )
    by_renewal = _BY_RENEWAL.search(low)
    if by_renewal:  # "sorted by renewal date": an order, not a window
        out["sort"] = "renewal"
    if (
        _RENEW.search(_BY_RENEWAL.sub(" ", low))
        and not renewal_stage
        and not re.search(r"\brenewal\s+(?:strategy|plan|approach|playbook|prep)\b", low)
    ):
        renew_span = _RENEW_SPAN.search(low) or span
        month = _MONTH_NAME.search(low)
        quarter = _QUARTER_NAME.search(low)
        if _NO_RENEWAL_DATE.search(low):
            out["renew_window"] = "none"
        elif _RENEWAL_PASSED.search(low):
            out["renew_window"] = "passed"
        elif _THIS_QUARTER.search(low):
            out["renew_window"] = "this_quarter"
        elif _NEXT_QUARTER.search(low):
            out["renew_window"] = "next_quarter"
        elif _YEAR_END.search(low):
            out["renew_window"] = "this_year"
        elif quarter:
            by = "by_" if _BY_END.search(low[: quarter.start()]) else ""
            out["renew_window"] = f"{by}quarter:{quarter.group(1)}"
        elif month:
            by = "by_" if _BY_END.search(low[: month.start()]) else ""
            out["renew_window"] = f"{by}month:{_MONTHS_OF_YEAR.index(month.group(1)[:3]) + 1}"
        elif _NEXT_MONTH.search(low) and not renew_span:
            out["renew_window"] = "next_month"
        else:
            out["renew_days"] = _days(renew_span.group(1), renew_span.group(2)) if renew_span else 90
    stale = span_days
    # "Haven't been touched in a while", "no login lately": a month (a quarter for a QBR), said back as such.
    if stale is None and re.search(r"\b(?:in|for)\s+a\s+(?:while|bit)\b|\blately\b|\brecently\b", low):
        stale = 90 if _QBR.search(low) else 30
    since = re.search(r"\bsince\s+(?:early\s+|the\s+(?:start|beginning)\s+of\s+)?" + _MONTH_NAME.pattern, low)
    if stale is not None or since:
        # "QBR overdue for 90 days" is a span without a QBR; "missed a QBR" (no span of its own) the model's signal.
        qbr_due = re.search(r"\bqbrs?\s+(?:is\s+|are\s+)?(?:over)?due\s+(?:for|by)\s+(?:more\s+than\s+)?\d", low)
        kind = (
            "qbr"
            if _QBR.search(low) and (qbr_due or not _MISSED_QBR.search(low))
            else "login"
            if _LOGIN.search(low)
            else "touch"
            if _TOUCH.search(low)
            else None
        )
        if kind and stale is not None and not out.get("renew_days"):
            out[f"no_{kind}_days"] = stale
            if qbr_due:
                out["signals"] = tuple(s for s in out["signals"] if s != "missed_qbr")
        elif kind and since:  # "not touched since October": dated by the answerer, from the 1st of that month
            out["stale_since"] = (kind, _MONTHS_OF_YEAR.index(since.group(1)[:3]) + 1)
    bound = _NPS_BOUND.search(low)
    if bound:
        if bound.group(2):
            out["nps_max"] = float(bound.group(2))
        elif bound.group(4):
            out["nps_max"] = float(int(bound.group(4)) - 1)
        else:
            out["nps_max"] = float(bound.group(5))
    elif _DETRACTORS.search(low):
        out["nps_max"] = 6.0
    if _OVERDUE.search(low) or (re.search(r"\boverdue\b", low) and not _QBR.search(low)):
        out["overdue"] = True
    dropped = _DROPPED_BY.search(low) or _DROP_POINTS.search(low)
    usage_fall = "usage_drop" in signals and re.search(r"\d\s*(?:%|percent)", low)
    gained = _GAINED_BY.search(low)
    if gained and not out.get("renew_days") and not _DROPPED_BY.search(low):
        out["gained"] = _points_at_least(gained)  # "improved by 10+ points": never read as a drop
    elif dropped and any(dropped.groups()) and not out.get("renew_days") and not usage_fall:
        out["dropped"] = _points_at_least(dropped)
    elif _DROP_SORT.search(low):
        out["sort"] = "drop"
    elif _GAIN_SORT.search(low):
        out["sort"] = "gain"
    elif _SENTIMENT_FALL.search(low):
        out["nps_max"] = out.get("nps_max", 6.0)  # said back: a fall in NPS can't be listed, the detractors can
    elif _DECLINING.search(low) and "usage_drop" not in signals:
        out["declining"] = True
    if _EXPANSION_READY.search(low):
        out["expansion"] = True
    limit = _LIMIT.search(low)
    if limit:
        out["limit"] = int(next(g for g in limit.groups() if g))
    elif _ONE_SUPERLATIVE.search(low):
        out["limit"] = 1  # "Diego's riskiest account", "our largest customer": the one
    if _WORRIED_ABOUT.search(low) and not re.search(r"\btrends?\b", low) and not bands:
        out["bands"] = ("@risk",)
    out["sort_by"] = _metric_sort(low)
    if "sort" not in out and out["sort_by"] is None:
        if _HIGHEST_SCORE.search(low):
            out["sort"] = "score_desc"
        elif _MOST_AT_RISK.search(low):  # "the top 5 most likely to churn": the lowest scores, not the biggest
            out["sort"] = "score"
        elif _BY_ARR.search(low):
            out["sort"] = "arr"
        elif _LOWEST.search(low):
            out["sort"] = "score"
    for pattern, key in (
        (_SCORE_BELOW, "score_max"),
        (_SCORE_ABOVE, "score_min"),
        (_SCORE_OR_BELOW, "score_max"),
        (_SCORE_OR_ABOVE, "score_min"),
    ):
        found = pattern.search(low)
        if found:
            out[key] = float(found.group(1))
    if "score_max" not in out and "score_min" not in out:  # "which accounts are below 60": a health score
        for pattern, key in ((_BARE_BELOW, "score_max"), (_BARE_ABOVE, "score_min")):
            found = pattern.search(low)
            if found:
                out[key] = float(found.group(1))
    if _STALE.search(low) and out.get("no_touch_days") is None:
        out["no_touch_days"] = 30  # "stale accounts": no customer touch in a month, which the answer says
    if _PLAN_UP.search(low):
        out["plan_change"] = "upgrade"
    if _ALERTS.search(low) and not _DIGEST.search(low) and not _ABOUT_ALERTS.search(low):
        out["alerts"] = "unacknowledged" if _UNACKNOWLEDGED.search(low) else "open"
    crossed = _CROSSED_BELOW.search(low)
    if crossed:
        out["crossed_below"] = float(crossed.group(1))
    between = _SCORE_BETWEEN.search(low)
    if between:
        out["score_min"], out["score_max"] = float(between.group(1)), float(between.group(2))
    out["metrics"], rest = _metric_thresholds(low)
    # The figure itself, not the signal on it: "3+ escalations", "no exec sponsor".
    for measure, signal in (
        ("escalations_90d", "multiple_escalations"),
        ("exec_sponsor_engaged", "exec_sponsor_change"),
    ):
        if any(measure == m for m, _, _ in out["metrics"]):
            out["signals"] = tuple(s for s in out["signals"] if s != signal)
    for pattern, key in ((_ARR_ABOVE, "arr_min"), (_ARR_BELOW, "arr_max")):
        found = pattern.search(rest)
        if found:
            out[key] = _money(found.group(1))
    between = _ARR_BETWEEN.search(rest)  # "ARR between 50k and 100k", both ends counted
    if between:
        out["arr_min"], out["arr_max"] = sorted((_money(between.group(1)), _money(between.group(2))))
    out["count"] = bool(re.search(r"\bhow\s+many\b|\bcount\s+of\b|\bnumber\s+of\b", low))
    return out


# "more than 5 tickets", "seat utilisation below 50%", "3+ escalations": a threshold on the latest snapshot.
_METRIC_NOUNS: tuple[tuple[str, str], ...] = (
    (r"(?:high[- ]priority|p1|urgent)\s+tickets?", "high_priority_open"),
    (r"(?:support\s+)?tickets?", "tickets_30d"),
    (r"escalations?", "escalations_90d"),
    (r"log-?ins?", "logins_30d"),
    (r"active\s+users?|users", "active_users"),
    (r"(?:seat\s+)?utili[sz]ation|seat\s+usage", "seat_utilisation"),
    (r"seats?", "seats_purchased"),
    (r"(?:feature\s+)?adoption", "feature_adoption"),
    (r"features(?:\s+used)?", "features_used"),
    (r"(?:csm\s+)?(?:touches|touchpoints)", "csm_touches_90d"),
    (r"csat(?:\s+scores?)?", "csat"),
    (r"days?\s+overdue", "days_overdue"),
)
SHARE_MEASURES = ("seat_utilisation", "feature_adoption")
_COMPARATORS = {
    "no more than": "<=",
    "no fewer than": ">=",
    "no less than": ">=",
    "at least": ">=",
    "at most": "<=",
    "more than": ">",
    "greater than": ">",
    "higher than": ">",
    "fewer than": "<",
    "less than": "<",
    "lower than": "<",
    "over": ">",
    "above": ">",
    "under": "<",
    "below": "<",
    ">=": ">=",
    "<=": "<=",
    ">": ">",
    "<": "<",
}
_CMP = "(?P<cmp>" + "|".join(c.replace(" ", r"\s+") for c in _COMPARATORS) + ")"
_NUM = r"(?P<num>\d+(?:\.\d+)?)\s*(?P<pct>%|percent)?"


def _points_at_least(match: re.Match[str]) -> float:
    """The fewest whole points a move must be: "10+", "at least 10" and, as CS teams say it, "more than 10"."""
    return float(next(g for g in match.groups() if g))


def _metric_sort(low: str) -> tuple[str, bool] | None:
    """ "The most tickets", "lowest NPS", "fewest logins": a list sorted by that metric (highest first or not)."""
    for noun, measure in (*_METRIC_NOUNS, (r"nps(?:\s+scores?)?", "nps")):
        found = re.search(
            rf"\b(most|highest|biggest|largest|fewest|least|lowest|smallest)\s+(?:number\s+of\s+)?(?:{noun})\b", low
        )
        if found:
            return measure, found.group(1) in ("most", "highest", "biggest", "largest")
    # "high ticket volume", "lots of escalations": the most first (no threshold was said).
    for noun, measure in _METRIC_NOUNS:
        many = re.search(rf"\b(?:high|heavy|lots\s+of|a\s+lot\s+of|many)\s+(?:{noun})(?:\s+(?:volume|counts?))?\b", low)
        if many and measure in ("tickets_30d", "high_priority_open", "escalations_90d"):
            return measure, True
    # "low adoption accounts", "poor seat utilisation": the lowest first (no threshold was said); "low usage" is
    # read as seat utilisation, which the answer's "read as" line says.
    if re.search(r"\b(?:low|poor|weak)\s+(?:product\s+)?usage\b", low):
        return "seat_utilisation", False
    for noun, measure in _METRIC_NOUNS:
        low_figure = re.search(rf"\b(?:low|poor|weak)\s+(?:{noun})\b", low)
        if low_figure and measure in (*SHARE_MEASURES, "csat", "logins_30d"):
            return measure, False
    return None


def _comparator(said: str | None) -> str:
    """The operator a comparison's words say ("more than" is >); none said ("5+ tickets") is at least."""
    return _COMPARATORS[re.sub(r"\s+", " ", said)] if said else ">="


def _blanked(low: str, match: re.Match[str]) -> str:
    """`low` with what `match` read blanked out, so no later reading takes it again."""
    return low[: match.start()] + " " * (match.end() - match.start()) + low[match.end() :]


def _metric_thresholds(low: str) -> tuple[tuple[tuple[str, str, float], ...], str]:
    """Thresholds on metrics, and the text with them blanked out (so "over 1000 logins" is no ARR)."""
    found: list[tuple[str, str, float]] = []
    promoters = re.search(
        r"\bpromoters?\b|\bnps\s+(?:score\s+)?(?:of\s+)?(?:9|10)\s+or\s+(?:10|above|higher|more)\b", low
    )
    if promoters:
        found.append(("nps", ">=", 9.0))
        low = _blanked(low, promoters)
    for nps in re.finditer(rf"\bnps\s+(?:scores?\s+)?(?:of\s+|is\s+)?{_CMP}\s*{_NUM}", low):
        op = _comparator(nps.group("cmp"))
        if op in (">", ">="):  # an upper bound is `nps_max`, read by `_filters`
            found.append(("nps", op, float(nps.group("num"))))
            low = _blanked(low, nps)
            break
    # "no exec sponsor", "exec sponsor not engaged": the latest snapshot's flag, not the signal that it changed.
    sponsor = r"(?:exec\w*|executive)\s+sponsors?"
    unengaged = re.search(
        rf"\b(?:no|without(?:\s+an?)?|lacking(?:\s+an?)?|missing(?:\s+an?)?)\s+(?:engaged\s+)?{sponsor}\b"
        r"|\b(?:no|without|lacking|missing)\s+(?:exec\w*|executive)\s+(?:engagement|involvement|contact|buy-?in)\b"
        rf"|\b{sponsor}\s+(?:is\s+|are\s+)?(?:not|isn't|isnt|aren't|arent|never)\s+engaged\b"
        rf"|\b(?:disengaged|unengaged|absent)\s+{sponsor}\b",
        low,
    )
    if unengaged:
        found.append(("exec_sponsor_engaged", "<=", 0.0))
        low = _blanked(low, unengaged)
    # "overdue for more than 30 days", "overdue > 30 days", "overdue by 45 days": days overdue, the number after.
    late = re.search(
        rf"\boverdue\s+(?:(?:payments?|invoices?|bills?)\s+)?(?:by\s+|for\s+)?(?:{_CMP}\s*)?(?P<days>\d+)\s*\+?\s*days?\b",
        low,
    )
    if late and not _QBR.search(low):  # "QBR overdue for 90 days" is about the QBR, not a payment
        op = _comparator(late.group("cmp"))
        found.append(("days_overdue", op, float(late.group("days"))))
        low = _blanked(low, late)
    for noun, measure in _METRIC_NOUNS:
        zero = re.search(rf"\b(?:zero|0)\s+(?:{noun})\b", low)
        if zero:
            found.append((measure, "<=", 0.0))
            low = _blanked(low, zero)
            continue
        for pattern in (
            rf"(?<!\w){_CMP}\s*{_NUM}\s+(?:open\s+|active\s+)?(?:{noun})\b",
            rf"\b(?P<num>\d+)\s*\+\s*(?P<pct>)(?:{noun})\b",
            rf"\b(?:{noun})\s*(?:is\s+|are\s+|of\s+|count\s+)?{_CMP}\s*{_NUM}",
        ):
            match = re.search(pattern, low)
            if match is None:
                continue
            op = _comparator(match.groupdict().get("cmp"))
            value = float(match.group("num"))
            if measure in SHARE_MEASURES and (match.group("pct") or value > 1):
                value /= 100
            found.append((measure, op, value))
            low = _blanked(low, match)
            break
    return tuple(found), low


def _wanted(q: Question, low: str, leftover: list[str]) -> Question:
    from dataclasses import replace

    named = len(q.accounts)
    if named >= 2 and (_COMPARE.search(low) or re.search(r"\band\b|\bor\b|,", low)) and not q.has_filter:
        return replace(q, wanted="compare")
    if _COMPARE.search(low) and named >= 2:
        return replace(q, wanted="compare")
    if q.csms and q.has_filter and not named:
        return replace(q, wanted="list", group_by=None)  # "red accounts for Sarah and Kenji": one list, both books
    if q.group_by and not named:
        return replace(q, wanted="portfolio", team=not (q.csm or q.mine or q.csms))
    one = q.limit == 1 and bool(_ONE_SUPERLATIVE.search(low))  # "a recovery plan for our worst account"
    for kind, pattern in _PLANS:
        if pattern.search(low) and (named or q.churned or one):
            return replace(q, wanted="plan", plan=kind)
    if named == 1:
        for kind, pattern in _ACCOUNT_PLANS:
            if pattern.search(low):
                return replace(q, wanted="plan", plan=kind)
    if _DIGEST.search(low) and not named:
        return replace(q, wanted="digest")
    if _MODEL_LOOSE.search(low) and not named:
        return replace(q, wanted="model")
    if q.churned and not named:
        return replace(q, wanted="card")
    if named == 1:
        if q.months and not re.search(r"\bworr", low):  # "how did Acme's score change over the last 3 months"
            return replace(q, wanted="trend")
        if _CHANGES.search(low) or _NEWS.search(low):
            return replace(q, wanted="changes", window_days=q.window_days or 7)
        if (_TREND.search(low) and not re.search(r"\bworr", low)) or q.months or _PLOT.search(low):
            return replace(q, wanted="trend")  # "anything to worry about with X" is its card, not its history
        if _WHY.search(low):
            return replace(q, wanted="why")
        return replace(q, wanted="card")
    if _CHANGES.search(low) or _NEWS.search(low):
        return replace(q, wanted="changes", window_days=q.window_days or 7, bands=())
    if _CHURNED_LIST.search(low) and not named:
        return replace(q, wanted="churned")
    if _AVERAGE.search(low) and not named:
        return replace(q, wanted="portfolio", team=not (q.csm or q.scope or q.mine))
    if _WHICH_CSM.search(low):
        return replace(q, wanted="portfolio", team=not (q.csm or q.mine), bands=(), sort=None, limit=None)
    if _FOCUS.search(low):
        return replace(q, wanted="portfolio", mine=not (q.csm or q.scope or q.team), bands=())
    if _WHY.search(low) and (q.scope or q.csm or q.mine or q.team) and q.bands:
        return replace(q, wanted="portfolio", bands=())  # the book's risk drivers say why
    if re.search(r"\bexport\b", low) and not q.has_filter:
        return replace(q, wanted="export")
    if named == 0 and _WHY.search(low) and leftover and not (q.csm or q.scope or q.mine):
        return replace(q, wanted="why")  # about an account we could not find: said so by the answerer
    scoped = q.csm or q.scope or q.mine or q.team or re.search(r"\b(?:accounts|customers|clients)\b", low)
    listing = _LIST_WORDS.search(low) and re.search(r"\bhow\s+many\b|\blist\b|\ball\s+of\b", low)
    counting = q.count and re.search(r"\b(?:customers|accounts|clients)\b", low)
    if _BOOK_SUMMARY.search(low) and not q.misses:  # the book's risk drivers, or its bands' shares
        return replace(q, wanted="portfolio", team=not (q.csm or q.scope or q.mine), bands=(), sort=None, limit=None)
    if q.has_filter or (listing and scoped) or counting:
        return replace(q, wanted="list")
    if re.search(r"\btotal\s+arr\b|\bhow\s+much\s+arr\b", low) and not (q.csm or q.scope or q.mine):
        return replace(q, wanted="portfolio", team=True)  # "what's the total ARR": the book's headline carries it
    if _TREND.search(low) and not (q.csm or q.scope or q.mine):
        return replace(q, wanted="trend")
    if q.scope and not (q.csm or q.mine) and _BARE_ACCOUNTS.search(low) and not _HOW_ARE.search(low):
        return replace(q, wanted="list")  # "healthcare accounts", "show me mid market customers": the accounts
    if q.csm or q.scope or q.mine or q.team:
        return replace(q, wanted="portfolio")
    overview = re.search(r"\b(?:distribution|breakdown|overview|summar(?:y|i[sz]e)|snapshot|big\s+picture)\b", low)
    if overview and not q.misses:
        return replace(q, wanted="portfolio", team=True)  # "the health score distribution": the whole book
    if any(m.kind in ("csm", "scope") for m in q.misses):
        return replace(q, wanted="list" if q.has_filter else "portfolio")
    if q.has_filter:
        return replace(q, wanted="list")
    if leftover and _looks_like_a_name_question(low, leftover):
        return replace(q, wanted="card")  # the answerer says no account is called that, with the closest names
    return replace(q, wanted="unsupported", unsupported_reason="I couldn't tell what you're asking.")


_NAME_QUESTION = re.compile(
    r"^(?:how(?:'s|\s+is|\s+are)|status|health|score|show|check|tell\s+me\s+about|what(?:'s|\s+is)\s+up\s+with|"
    r"is\b|why\b|look\s*up)|\b(?:doing|looking|health|score|status)\b",
    re.IGNORECASE,
)


_BOOK_SUMMARY = re.compile(
    r"\brisk\s+drivers?\b|\b(?:biggest|top|main|key)\s+risks?\b"
    r"|\b(?:most\s+common|commonest|top|main|biggest)\s+(?:risk\s+)?(?:signals|issues|problems|red\s+flags)\b"
    r"|\b(?:by|per|in\s+each|each)\s+(?:health\s+)?(?:band|status|colou?r)s?\b"
    r"|\brisk\s+(?:summary|report|overview|review|picture)\b|\b(?:top|main|biggest|common|key)\s+reasons\b"
    r"|\bwhy\s+(?:are\s+)?(?:so\s+many\s+)?(?:accounts|customers)\s+(?:are\s+)?at[- ]risk\b"
    r"|\b(?:getting|got)\s+better\s+or\s+worse\b|\bimproving\s+or\s+(?:declining|getting\s+worse)\b|\bwhat(?:'s|\s+is)\s+driving\s+(?:the\s+)?risk\b"
    r"|\b(?:percentage|proportion|share)\s+of\b",
    re.IGNORECASE,
)
_BARE_ACCOUNTS = re.compile(r"\b(?:accounts|customers|clients|accts)\b", re.IGNORECASE)
_HOW_ARE = re.compile(
    r"\b(?:how|doing|looking|health(?:y|ier|iest)?|portfolio|book|overview|summary|breakdown|distribution|state|shape|status"
    r"|average|avg|trend\w*|perform\w*)\b",
    re.IGNORECASE,
)


def _looks_like_a_name_question(low: str, leftover: list[str]) -> bool:
    words = sum(len(run.split()) for run in leftover)
    return bool(_NAME_QUESTION.search(low)) or (words <= 4 and len(low.split()) <= 5)


def csm_of(slack_id: str, vocab: Vocabulary) -> Csm | None:
    """The CSM whose Slack user is `slack_id`, when the accounts file says so."""
    return vocab.csm_by_slack_id(slack_id)


def compact(text: str) -> str:
    """A name squashed for matching (exported for the tests' own look-ups)."""
    return squash(text)
