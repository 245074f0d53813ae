"""Build the labelled evaluation set ``pairs.csv`` (run: ``python -m
sentinel.screening.evaluation.build_pairs``). Deterministic: the same seed gives the same file.

Each row: category, the screened name and its type, the listed name and its type, and whether a
screening officer would want the pair flagged (1) or not (0). Categories follow the failures
users report of screening tools: transliterations, reordered and partial names, nicknames,
joined or split particles, typos, legal forms, common-token traps, short names, people against
companies, and near misses. ``hard_cases.csv`` beside it holds hand-written pairs.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).parent
SEED = 18

GIVEN = """ahmed hassan omar khalid tariq walid samir karim nabil rashid farid jamal bilal hamza
ivan sergei dmitri nikolai andrei pavel oleg yuri viktor boris maria elena olga natalia irina
john robert james michael david richard thomas charles george edward anna carlos juan miguel
pedro luis jorge diego pablo fernando rafael wei ming jian hong chen feng lei jun kenji hiroshi
takeshi yuki sato kim min joon ali reza mehdi hossein amir parisa fatima aisha zainab
leila""".split()
SURNAMES = """rahman haddad nasser mansour qureshi siddiqui farouk hamdan bakr darwish petrov
ivanov sokolov kuznetsov popov volkov morozov novikov fedorov orlov garcia rodriguez martinez
hernandez lopez gonzalez perez sanchez ramirez torres smith johnson williams brown jones miller
davis wilson anderson taylor zhang wang liu yang huang zhao zhou tanaka suzuki watanabe
yamamoto nakamura park choi jung kang karimi hosseini moradi rezaei ahmadi jafari""".split()
MIDDLE = """ibrahim abdullah yusuf salim aziz vladimirovich sergeevich antonio maria lee
marie jose""".split()
WORDS = """sunrise horizon atlas falcon crescent orient meridian zenith apex pioneer summit
harbor delta cobalt granite emerald sapphire aurora vertex nova titan condor phoenix
nordic baltic caspian sahara andes alpine coastal""".split()
LEGAL = ["LLC", "Ltd", "Limited", "Corp", "Corporation", "Inc", "GmbH", "SA", "PJSC", "FZE"]
GENERIC = ["Trading", "International", "Holding", "Group", "Shipping", "Industries", "Services"]

# Romanisations of the same name, and names in their own script with their Latin form.
TRANSLITERATIONS = [
    ("Mohammed", "Muhammad"),
    ("Mohamed", "Mohammad"),
    ("Muhammed", "Mohamad"),
    ("Yusuf", "Youssef"),
    ("Yousef", "Yusuf"),
    ("Ibrahim", "Ebrahim"),
    ("Husain", "Hussain"),
    ("Abdullah", "Abdallah"),
    ("Osama", "Usama"),
    ("Omar", "Umar"),
    ("Khaled", "Khalid"),
    ("Suleiman", "Sulayman"),
    ("Mustafa", "Moustafa"),
    ("Abdulaziz", "Abdelaziz"),
    ("Qasim", "Kasim"),
    ("Qaddafi", "Gaddafi"),
    ("Hussein", "Husayn"),
    ("Rashid", "Rasheed"),
    ("Sergei", "Sergey"),
    ("Dmitri", "Dmitry"),
    ("Yuri", "Iouri"),
    ("Aleksandr", "Alexandr"),
    ("Evgeny", "Yevgeniy"),
    ("Nikolai", "Nikolay"),
    ("Andrei", "Andrey"),
    ("Fyodor", "Fedor"),
    ("Tchaikovsky", "Chaikovsky"),
    ("Khodorkovsky", "Hodorkovsky"),
    ("Mikhail", "Mihail"),
    ("Zhukov", "Joukov"),
]
SCRIPTS = [
    ("Владимир Путин", "Vladimir Putin"),
    ("Сергей Иванов", "Sergei Ivanov"),
    ("Дмитрий Петров", "Dmitriy Petrov"),
    ("Ольга Смирнова", "Olga Smirnova"),
    ("Игорь Сечин", "Igor Sechin"),
    ("Алексей Миллер", "Aleksei Miller"),
    ("Михаил Фридман", "Mikhail Fridman"),
    ("Николай Патрушев", "Nikolai Patrushev"),
    ("李明", "Li Ming"),
    ("王伟", "Wang Wei"),
    ("张勇", "Zhang Yong"),
    ("刘洋", "Liu Yang"),
    ("陈杰", "Chen Jie"),
    ("黄磊", "Huang Lei"),
    ("Ελένη Παπαδοπούλου", "Eleni Papadopoulou"),
    ("Γιώργος Νικολάου", "Giorgos Nikolaou"),
    ("Κώστας Γεωργίου", "Kostas Georgiou"),
    ("Хасан Умаров", "Khasan Umarov"),
    ("Рамзан Кадыров", "Ramzan Kadyrov"),
    ("Юрий Ковальчук", "Yury Kovalchuk"),
]
NICKNAME_PAIRS = [
    ("Bill", "William"),
    ("Bob", "Robert"),
    ("Mike", "Michael"),
    ("Jim", "James"),
    ("Dick", "Richard"),
    ("Tony", "Anthony"),
    ("Sasha", "Alexander"),
    ("Dave", "David"),
    ("Tom", "Thomas"),
    ("Ted", "Edward"),
    ("Chris", "Christopher"),
    ("Nick", "Nicholas"),
    ("Liz", "Elizabeth"),
    ("Kate", "Katherine"),
    ("Andy", "Andrew"),
    ("Greg", "Gregory"),
    ("Steve", "Steven"),
    ("Joe", "Joseph"),
    ("Dan", "Daniel"),
    ("Ben", "Benjamin"),
]
# Different people whose names sound or look alike: must not be flagged.
NEAR_SURNAMES = [
    ("Bush", "Habbash"),
    ("Hassan", "Hussein"),
    ("Smith", "Smyrnov"),
    ("Petrov", "Pavlov"),
    ("Garcia", "Garza"),
    ("Ivanov", "Ivashov"),
    ("Miller", "Millan"),
    ("Martin", "Martinez"),
    ("Johnson", "Jameson"),
    ("Morozov", "Moroz"),
    ("Park", "Parker"),
    ("Salah", "Saleh"),
    ("Nasser", "Nasrallah"),
    ("Rahman", "Rahimi"),
    ("Volkov", "Volodin"),
    ("Sanchez", "Santos"),
    ("Tanaka", "Takata"),
    ("Kang", "Kwan"),
    ("Torres", "Torrente"),
    ("Haddad", "Hadid"),
]


def person(rng: random.Random, middle: bool = False) -> list[str]:
    parts = [rng.choice(GIVEN), rng.choice(SURNAMES)]
    if middle:
        parts.insert(1, rng.choice(MIDDLE))
    return [part.capitalize() for part in parts]


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 6:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["swap", "drop", "double"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def build(rng: random.Random) -> list[tuple[str, str, str, str, str, int]]:
    rows: list[tuple[str, str, str, str, str, int]] = []

    def add(category, query, entry, match, query_type="", entry_type="person"):
        rows.append((category, query, query_type, entry, entry_type, int(match)))

    for _ in range(90):  # case, accents, punctuation, spacing
        first, last = person(rng)
        variant = rng.choice(
            [
                f"{first.upper()} {last.upper()}",
                f"{first.lower()}  {last.lower()}",
                f"{last}, {first}",
                f"{first}. {last}",
                f"{first} {last}".replace("e", "é", 1),
            ]
        )
        add("exact_variants", variant, f"{first} {last}", 1)
    for a, b in TRANSLITERATIONS * 3:
        last = rng.choice(SURNAMES).capitalize()
        add("transliteration", f"{a} {last}", f"{b} {last}", 1)
    for original, latin in SCRIPTS * 3:
        add("transliteration", original, latin, 1)
    for _ in range(90):
        first, middle, last = person(rng, middle=True)
        add("reordered", f"{last} {first} {middle}", f"{first} {middle} {last}", 1)
    for _ in range(90):
        first, middle, last = person(rng, middle=True)
        add("missing_middle", f"{first} {last}", f"{first} {middle} {last}", 1)
    for _ in range(80):
        first = rng.choice(GIVEN).capitalize()
        stem = rng.choice(["Rahman", "Aziz", "Karim", "Amri", "Hakim", "Rashid", "Qadir"])
        split, joined = rng.choice(
            [
                (f"Abdul {stem}", f"Abdul{stem.lower()}"),
                (f"Al-{stem}", f"Al{stem.lower()}"),
                (f"Al {stem}", f"Al-{stem}"),
                (f"El {stem}", f"El{stem.lower()}"),
            ]
        )
        pair = [f"{first} {split}", f"{first} {joined}"]
        rng.shuffle(pair)
        add("joined_split", *pair, 1)
    for _ in range(90):
        first, last = person(rng)
        long_first = rng.choice([w for w in GIVEN if len(w) >= 6]).capitalize()
        long_last = rng.choice([w for w in SURNAMES if len(w) >= 6]).capitalize()
        add(
            "typos",
            f"{typo(rng, long_first)} {typo(rng, long_last)}",
            f"{long_first} {long_last}",
            1,
        )
    for short, formal in NICKNAME_PAIRS * 3:
        last = rng.choice(SURNAMES).capitalize()
        add("nicknames", f"{short} {last}", f"{formal} {last}", 1)
    for _ in range(80):
        name = " ".join(w.capitalize() for w in rng.sample(WORDS, 2))
        add(
            "legal_forms",
            f"{name} {rng.choice(LEGAL)}",
            f"{name} {rng.choice(LEGAL)}",
            1,
            "entity",
            "entity",
        )
    for _ in range(100):  # the shared tokens are only legal forms and generic words
        one, two = rng.sample(WORDS, 2)
        generic, legal = rng.choice(GENERIC), rng.choice(LEGAL)
        add(
            "common_token_traps",
            f"{one.capitalize()} {generic} {legal}",
            f"{two.capitalize()} {generic} {legal}",
            0,
            "entity",
            "entity",
        )
    for _ in range(40):
        add(
            "common_token_traps",
            rng.choice(LEGAL),
            f"{rng.choice(WORDS).capitalize()} {rng.choice(LEGAL)}",
            0,
            "entity",
            "entity",
        )
    for _ in range(60):  # short names: equal ones match, one letter apart do not
        last = rng.choice(["Li", "Wu", "Xu", "Ma", "Hu", "Lu", "He", "Yu", "Ng", "Ho"])
        first = rng.choice(["Wei", "Na", "Jun", "Lei", "Yan", "Bo", "Min", "Jie"])
        add("short_names", f"{first} {last}", f"{last} {first}", 1)
        other = rng.choice(
            [s for s in ["Li", "Wu", "Xu", "Ma", "Hu", "Lu", "He", "Yu"] if s != last]
        )
        add("short_names", f"{first} {last}", f"{first} {other}", 0)
    for _ in range(80):  # a company named like a listed person, or the reverse
        first, last = person(rng)
        if rng.random() < 0.5:
            add(
                "person_vs_company",
                f"{first} {last} {rng.choice(LEGAL)}",
                f"{first} {last}",
                0,
                "entity",
                "person",
            )
        else:
            add("person_vs_company", f"{first} {last}", f"{first} {last}", 0, "person", "entity")
    for near, far in NEAR_SURNAMES * 3:
        first = rng.choice(GIVEN).capitalize()
        add("near_misses", f"{first} {near}", f"{first} {far}", 0)
    for _ in range(80):  # same first name or same surname only
        first, last = person(rng)
        other_first, other_last = person(rng)
        if other_last == last or other_first == first:
            continue
        pair = rng.choice(
            [
                (f"{first} {last}", f"{first} {other_last}"),
                (f"{first} {last}", f"{other_first} {last}"),
            ]
        )
        add("near_misses", *pair, 0)
    for _ in range(60):  # a single name against a full one
        first, middle, last = person(rng, middle=True)
        add("partial_names", rng.choice([first, last]), f"{first} {middle} {last}", 0)
    return rows


def main() -> None:
    rows = build(random.Random(SEED))
    with (HERE / "pairs.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["category", "query", "query_type", "entry", "entry_type", "match"])
        writer.writerows(rows)
    print(f"{len(rows)} pairs written to {HERE / 'pairs.csv'}")


if __name__ == "__main__":
    main()
