"""Gopher quality rules: each fixture is a plausible web document that fails exactly one rule of
every family web text gets (gopher_repetition, gopher_quality, c4, fineweb), through the real
stages (see helpers.run_quality)."""

import pytest

from pipeline.text.quality import gopher_quality
from pipeline.text.quality.gopher_quality import GopherQualityReason as R
from pipeline.text.stopwords import STOP_WORDS
from pipeline.text.words import tokenize
from tests.text.quality.helpers import ARTICLE, config_with, run_quality

STAGE = gopher_quality.STAGE_ID

# 40 words: a complete news brief, five sentences, just too short.
TRAFFIC_BRIEF = (
    "Police have closed the northbound lane of Harbour Road after a delivery van overturned early this morning. "
    "Nobody was hurt. Drivers should expect delays until noon. A tow truck is already on its way. "
    "Buses will follow a signed diversion."
)

# An early reader: real sentences, but words of two or three letters (mean 2.55).
EARLY_READER = (
    "I am Sam and this is my dog, Max. Max is a big red dog. He can run and he can dig. We go to the park on a "
    "hot day. I get my ball and I toss it up. Max can see it. He is so fast! He got it in his jaw. Now it is wet "
    "and I do not want it. Mom says it is time to go in. We eat and then we go to bed."
)

# A reading list whose long URLs are words too (mean 12.6).
READING_LIST = """Further reading for the workshop on reproducible research.
The official installation notes are at https://docs.example.org/guides/installation/linux-distributions/package-managers.html for every supported platform.
A walkthrough of containerised environments is published at https://blog.example.com/2021/03/reproducible-environments-with-containers-and-lockfiles.html by the organisers.
Recorded lectures from the previous edition remain available through https://media.example.edu/lectures/reproducibility-2020/recordings/complete-playlist.html until June.
The shared dataset used in the exercises lives at https://data.example.org/repositories/workshop-materials/benchmark-corpora/version-three/index.html with its documentation.
Questions about registration go to https://forms.example.org/workshops/reproducible-research/registration-and-accommodation-enquiries.html before the deadline."""

# A social media post: 13 hashtags in 118 tokens. Hashtags are inline and other punctuation is
# sparse, so the share of alphabetic tokens stays above 0.8 ("#" is a token of its own).
HIKING_POST = """Finally made it to the top of Ben Nevis this morning #hiking #scotland after four hours of climbing through fog.
The view from the summit was worth every step #mountains #views and the wind nearly took my hat.
Huge thanks to my brother for carrying the flask of tea #teamwork #family all the way up.
Next stop is the Isle of Skye next weekend #travel #adventure if the weather holds.
Legs are absolutely destroyed but my heart is full #fitness #outdoors #sunrise tonight.
Anyone know a good pub in Fort William for dinner #foodie #pubgrub with my muddy boots?"""

# A forum post that trails off all the time, but no line ends with an ellipsis.
PRINTER_RANT = (
    "So I tried the new firmware update last night and... nothing. The printer shows up in the settings... but it "
    "refuses to print a single page. I restarted the router... then reinstalled the driver... then unplugged "
    "everything for ten minutes. Still nothing... so I called support this morning. They told me... very "
    "politely... to wait for another patch... which is not exactly helpful... when you have a deadline. Has anyone "
    "else had this problem... or found a workaround... that actually works? I am honestly starting to regret "
    "buying this model... it was fine... until the update."
)

# 11 of 12 lines are bullets (0.917 > 0.9); the heading is the only other line.
PACKING_LIST = """What to pack for a weekend hut trip in the Alps
- A lightweight sleeping bag liner, because most huts provide blankets but not sheets.
- Slippers or sandals for the evening, as boots must stay in the boot room.
- A headlamp with spare batteries for the dormitory and early morning starts.
- Cash in small notes, since many huts cannot take cards at the counter.
- Earplugs, unless you enjoy listening to twenty strangers snoring all night long.
- A refillable water bottle and some purification tablets for the streams.
- Sunscreen and a warm hat, even in August when the valley feels very hot.
- A printed copy of your booking confirmation and the hut warden's phone number.
- Blister plasters and a small roll of tape for long descents on rocky paths.
- A rain jacket with a hood that actually fits over your helmet.
- Snacks with plenty of salt to replace what you lose while sweating uphill."""

# A news index: 4 of 9 lines are truncated teasers. C4 drops them, the full items remain.
HEADLINES = """Latest headlines from the valley news desk.
City council approves a new budget for road repairs after a lengthy debate that lasted until...
Heavy rain expected across the region this weekend as forecasters warn that rivers could...
Local bakery wins a national award for its sourdough, beating more than two hundred...
School board delays the vote on new uniforms after parents raise concerns about the cost of...
The regional hospital has opened a new maternity ward with twelve private rooms. It was funded by a charity appeal that ran for three years.
Volunteers planted more than four hundred trees along the river bank on Sunday. The council plans a second planting day in the autumn.
A missing dog was found safe after spending two nights on the hills above the town. Its owners thanked the mountain rescue team for their help.
Tickets for the summer music festival go on sale on Friday morning. Organisers expect the weekend passes to sell out within hours."""

# An earnings summary: numbers, "$" and "%" are tokens without a letter (0.59 alphabetic).
EARNINGS = """Northwind Retail reported revenue of $4.82 billion for Q3 2023, up 12.4% from $4.29 billion in Q3 2022.
Operating margin rose to 8.7% from 7.9%, while net income reached $312 million, or $1.46 per share.
Online sales grew 27% to $1.13 billion and now account for 23.4% of total revenue.
The company opened 14 stores and closed 6, ending the quarter with 1,208 locations in 11 countries.
Full-year guidance was raised to $19.1-19.4 billion, against $18.6 billion previously.
Shares rose 5.2% to $84.30 in early trading on Thursday."""

# A product listing in telegraphic style: none of the, be, to, of, and, that, have, with.
STROLLER_LISTING = """Trailblazer Folding Stroller.
Lightweight aluminium frame weighs just under seven kilograms.
Folds flat in seconds using one hand.
Fits most car boots plus overhead luggage bins.
Fully reclining seat suits newborns from birth.
Large shopping basket holds a full weekly grocery run.
Extendable sun canopy offers excellent protection on bright days.
Puncture-proof wheels handle gravel, grass or cobblestones easily.
Includes rain cover, cup holder plus carry strap.
Available in charcoal, sand or forest green.
Free delivery on all orders over forty pounds."""

CHINESE_NEWS = (
    "图书馆周一上午开放了新的阅览室。读者现在可以借书四周，而不是两周，工作人员还在星期四增加了晚间开放时间。"
    "市议会用去年春天批准的一笔拨款支付了装修费用。当地学校已经为他们的班级预约了参观。"
    "据馆长说，最受欢迎的是旅行指南和地图的书架。"
)
SWAHILI_NEWS = (
    "Maktaba ya Riverside imefunguliwa tena Jumamosi baada ya ukarabati uliochukua karibu miaka miwili. Mamia ya "
    "wakazi walipanga foleni nje kabla ya milango kufunguliwa saa tatu asubuhi, na baadhi yao walileta watoto wao "
    "kuona bustani mpya ya kusomea. Jengo sasa lina sehemu kubwa zaidi ya watoto, ghorofa tulivu ya kujisomea na "
    "studio ndogo ya kurekodi ambayo wanachama wanaweza kuitumia bure. Fedha zilitoka kwa ruzuku ya mkoa na "
    "kampeni iliyoendeshwa na wajitolea. Mkuu wa maktaba aliwashukuru katika hotuba fupi. Alisema maktaba "
    "itaongeza saa za kufunguliwa wakati wa msimu wa mitihani."
)
GERMAN_NEWS = (
    "Die Stadtbibliothek Riverside ist am Samstag nach fast zwei Jahren Umbau wieder eröffnet worden. Hunderte "
    "Bewohner warteten vor dem Eingang, und viele brachten ihre Kinder mit, um den neuen Lesegarten zu sehen. Das "
    "Gebäude hat nun eine größere Kinderabteilung, ein ruhiges Stockwerk zum Lernen und ein kleines Tonstudio, das "
    "Mitglieder kostenlos buchen können. Das Geld kam von einem regionalen Förderprogramm und von einer Kampagne "
    "freiwilliger Helfer. Die Leiterin der Bibliothek dankte ihnen in einer kurzen Rede. Sie kündigte an, dass die "
    "Bibliothek während der Prüfungszeit länger geöffnet sein wird."
)


def test_article_passes_every_rule_of_every_family():
    out = run_quality(ARTICLE)
    assert out.failures == []
    assert out.failed_rules == []
    assert all(v.skipped == () for v in out.verdicts.values())


@pytest.mark.parametrize(
    "text, reason, setting",
    [
        (TRAFFIC_BRIEF, R.TOO_FEW_WORDS, "min_words"),
        (EARLY_READER, R.MEAN_WORD_LENGTH_LOW, "min_mean_word_length"),
        (READING_LIST, R.MEAN_WORD_LENGTH_HIGH, "max_mean_word_length"),
        (HIKING_POST, R.TOO_MANY_HASHES, "max_hash_ratio"),
        (PRINTER_RANT, R.TOO_MANY_ELLIPSES, "max_ellipsis_ratio"),
        (PACKING_LIST, R.TOO_MANY_BULLET_LINES, "max_bullet_lines"),
        (HEADLINES, R.TOO_MANY_ELLIPSIS_LINES, "max_end_ellipsis_lines"),
        (EARNINGS, R.TOO_FEW_ALPHA_WORDS, "min_alpha_words"),
        (STROLLER_LISTING, R.TOO_FEW_STOP_WORDS, "min_stop_words"),
    ],
    ids=lambda v: v.name if isinstance(v, R) else None,
)
def test_document_fails_exactly_one_rule(text, reason, setting):
    out = run_quality(text)
    assert out.failures == [(STAGE, reason)]
    assert out.failed_rules == [("gopher_quality", setting)]


def test_too_many_words():
    # The default limit is 100,000 words; lowered here so that the document stays small.
    cfg = config_with("gopher_quality", max_words=150)
    out = run_quality(ARTICLE, cfg=cfg)
    assert out.score("gopher_quality", "word_count") == 183
    assert out.failures == [(STAGE, R.TOO_MANY_WORDS)]
    assert out.failed_rules == [("gopher_quality", "max_words")]
    assert out.verdicts["gopher_quality"].detail == "word_count=183 > 150"


@pytest.mark.parametrize(
    "text, setting",
    [
        (STROLLER_LISTING, "min_stop_words"),
        (HIKING_POST, "max_hash_ratio"),
        (EARLY_READER, "min_mean_word_length"),
    ],
)
def test_a_rule_set_to_none_is_not_evaluated(text, setting):
    out = run_quality(text, cfg=config_with("gopher_quality", **{setting: None}))
    assert out.failures == []
    assert out.failed_rules == []
    assert out.verdicts["gopher_quality"].skipped == ()  # switched off: neither failed nor skipped


def test_chinese_has_no_mean_word_length_and_passes_the_rest():
    out = run_quality(CHINESE_NEWS, lang="zh")
    assert "quality.gopher_quality.v1:mean_word_length" not in out.doc.scores
    assert out.verdicts["gopher_quality"].skipped == ("min_mean_word_length", "max_mean_word_length")
    assert out.score("gopher_quality", "stop_words") >= 2  # 的, 了, 是, ... count as words
    assert out.failures == []
    assert out.failed_rules == []


def test_swahili_has_no_stop_word_list_so_the_rule_is_skipped():
    out = run_quality(SWAHILI_NEWS, lang="sw")
    assert "quality.gopher_quality.v1:stop_words" not in out.doc.scores
    assert out.verdicts["gopher_quality"].skipped == ("min_stop_words",)
    assert out.failures == []
    assert out.failed_rules == []


def test_german_passes_the_stop_word_rule_with_german_stop_words():
    words = {t.lower() for t in tokenize(GERMAN_NEWS)}
    assert len(words & STOP_WORDS["en"]) < 2  # English stop words would reject it
    out = run_quality(GERMAN_NEWS, lang="de")
    assert out.score("gopher_quality", "stop_words") == len(words & STOP_WORDS["de"]) >= 2
    assert out.verdicts["gopher_quality"].skipped == ()
    assert out.failures == []
    assert out.failed_rules == []
