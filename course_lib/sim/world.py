"""Lesson 03 (and 06): the product world of the real-time recommender.

A catalogue of 200 food-and-coffee products, 1,000 synthetic users made with Faker, a
scikit-learn feature artifact, a dynamic time context, the hidden click model
(``GroundTruth``) and a random historical log.  ``build_world(seed)`` regenerates all of it
in one call; ``load_world()`` reads the committed copy, package data under ``course_lib/sim/data``
(with the catalogue itself, ``catalogue.json``).

Public API (kept backwards-compatible; lesson 06 builds on it):

- ``World.products`` (``product_id`` 0..199 = row), ``World.users`` (``user_id`` 0..999 = row),
  ``World.log`` (``user_id, product_id, timestamp, is_morning, is_weekend, is_weekday, click,
  propensity``).
- ``World.context(user_ids, timestamps) -> (n, d)``: the context vector ``x`` a bandit sees:
  user features then time features (``World.context_names``).
- ``World.product_features`` ``(200, d_p)``: the arm features (``World.product_feature_names``).
- ``World.click_probability(user_ids, product_ids, timestamps)``: the oracle's exact click
  probability, NumPy-broadcast over the three arrays (e.g. ``u[:, None], arange(200)[None],
  t[:, None]`` gives an ``(n, 200)`` matrix); ``World.sample_clicks`` draws Bernoulli clicks.
- ``time_features(timestamps)``, ``random_timestamps(n, rng, start, end)``.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from course_lib.numerics import sigmoid
from course_lib.validate import ids

DEFAULT_SEED = 2024
N_USERS = 1_000
N_LOG = 10_000
CITY = {"name": "Melbourne", "lat": -37.8136, "lon": 144.9631}
TRAFFIC_SOURCES = ("Search", "Organic", "Email", "Facebook", "Display")
GENDERS = ("F", "M")
# Most visits to a food-ordering site come from search.
_SOURCE_WEIGHTS = OrderedDict([("Search", 0.45), ("Organic", 0.2), ("Email", 0.1), ("Facebook", 0.15),
                               ("Display", 0.1)])
TIME_NAMES = ("is_morning", "is_weekend", "is_weekday")
MORNING_HOURS = (6, 11)  # a visit is "morning" when 06:00 <= time < 11:00
LOG_START = "2024-01-01"  # a Monday; the log spans four weeks of opening hours 07:00-22:00
LOG_DAYS = 28
WEEKEND_TRAFFIC = 2.0  # a weekend day brings twice the visits of a weekday, in the log
SVD_DIM = 10
FILES = {"products": "products.csv", "users": "users.csv", "log": "history_log.csv",
         "artifact": "feature_artifact.json"}

def _package_data(name: str):
    """A file of the world's package data (``course_lib/sim/data``), found through the package, not the cwd."""
    return resources.files("course_lib.sim") / "data" / name


def _read_catalogue() -> tuple[list[tuple[str, tuple[float, float], list[tuple[str, str]]]], set[str], dict[str, float]]:
    """(category, price range in dollars, [(name, description words)]), coffees, premium prices: ``catalogue.json``."""
    raw = json.loads(_package_data("catalogue.json").read_text(encoding="utf-8"))
    catalogue = [(c["category"], tuple(c["price_range"]), [tuple(i) for i in c["items"]]) for c in raw["categories"]]
    return catalogue, set(raw["coffees"]), {k: float(v) for k, v in raw["premium_prices"].items()}


# The catalogue is package data (written for this course), not code.
_CATALOGUE, _COFFEES, _PREMIUM = _read_catalogue()
CATEGORIES = tuple(c for c, _, _ in _CATALOGUE)


# ----------------------------------------------------------------------------- catalogue, users


def make_products(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """The 200-product catalogue: id, name, description, price, category, is_coffee."""
    rng = np.random.default_rng([seed, 1])
    rows = []
    for category, (lo, hi), items in _CATALOGUE:
        prices = lo + (hi - lo) * rng.random(len(items))
        for (name, words), price in zip(items, prices):
            price = _PREMIUM.get(name, np.round(price * 2) / 2 - 0.05)  # menu prices: 12.45, 12.95
            rows.append({"product_id": len(rows), "name": name,
                         "description": f"{name}: {words}.", "price": round(float(price), 2),
                         "category": category, "is_coffee": name in _COFFEES})
    return pd.DataFrame(rows)


def make_users(seed: int = DEFAULT_SEED, n_users: int = N_USERS) -> pd.DataFrame:
    """``n_users`` synthetic users made with Faker: name, age, gender, lat/lon around the city, source."""
    from faker import Faker

    fake = Faker("en_AU")
    fake.seed_instance(seed)
    rows = []
    for i in range(n_users):
        gender = fake.random_element(GENDERS)
        name = fake.name_female() if gender == "F" else fake.name_male()
        lat, lon = fake.coordinate(CITY["lat"], 0.12), fake.coordinate(CITY["lon"], 0.15)
        rows.append({"user_id": i, "name": name, "age": fake.random_int(18, 75), "gender": gender,
                     "lat": round(float(lat), 5), "lon": round(float(lon), 5),
                     "traffic_source": fake.random_element(_SOURCE_WEIGHTS)})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- time context


def _as_datetime64(timestamps: Any) -> np.ndarray:
    """Timestamps (datetime64, pandas, strings; any shape) as a ``datetime64[s]`` array."""
    if isinstance(timestamps, (pd.Series, pd.Index)):
        timestamps = timestamps.to_numpy()
    arr = np.asarray(timestamps)
    if arr.dtype.kind != "M":
        try:
            arr = np.asarray(pd.to_datetime(arr.ravel())).reshape(arr.shape)
        except (ValueError, TypeError) as err:
            raise ValueError(f"timestamps must be datetimes or ISO strings like '2024-01-01 08:00': {err}") from err
    return arr.astype("datetime64[s]")


def time_features(timestamps: Any) -> np.ndarray:
    """Dynamic context of a visit: ``(..., 3)`` floats ``is_morning, is_weekend, is_weekday``."""
    t = _as_datetime64(timestamps)
    days = t.astype("datetime64[D]")
    hour = ((t - days).astype("timedelta64[h]")).astype(np.int64)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    morning = (hour >= MORNING_HOURS[0]) & (hour < MORNING_HOURS[1])
    weekend = weekday >= 5
    return np.stack([morning, weekend, ~weekend], axis=-1).astype(float)


def random_timestamps(n: int, rng: np.random.Generator, start: str = "2024-02-05 08:00",
                      end: str = "2024-02-10 21:00") -> np.ndarray:
    """``n`` visit times uniform between ``start`` and ``end`` (default Monday 08:00 to Saturday 21:00), to the minute."""
    lo, hi = np.datetime64(start, "m"), np.datetime64(end, "m")
    if hi <= lo:
        raise ValueError(f"end must be after start, got start={start!r}, end={end!r}")
    minutes = rng.integers(0, (hi - lo).astype(np.int64) + 1, size=n)
    return (lo + minutes.astype("timedelta64[m]")).astype("datetime64[s]")


# ----------------------------------------------------------------------------- feature artifact


@dataclass
class FeatureArtifact:
    """Fitted feature engineering, stored as plain parameters (JSON) rather than a pickle.

    Products: TF-IDF of the text then truncated SVD (10 dims), one-hot category, min-max price,
    is_coffee.  Users: one-hot gender and traffic source, min-max age, latitude, longitude.
    Fitted with scikit-learn (``fit``); ``transform_*`` re-creates the same transforms from the
    stored parameters, so any new user or product can be featurised.
    """

    vocabulary: dict[str, int]
    idf: list[float]
    svd_components: list[list[float]]
    categories: list[str]
    genders: list[str]
    traffic_sources: list[str]
    minmax: dict[str, list[float]]  # column -> [min, max]

    @classmethod
    def fit(cls, products: pd.DataFrame, users: pd.DataFrame, seed: int = DEFAULT_SEED) -> FeatureArtifact:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        tfidf = TfidfVectorizer(stop_words="english")
        tf = tfidf.fit_transform(products["description"])
        svd = TruncatedSVD(n_components=SVD_DIM, algorithm="arpack", random_state=seed).fit(tf)
        comps = svd.components_.copy()
        comps *= np.where(comps[np.arange(SVD_DIM), np.abs(comps).argmax(1)] < 0, -1.0, 1.0)[:, None]
        return cls(
            vocabulary={k: int(v) for k, v in sorted(tfidf.vocabulary_.items())},
            idf=[float(v) for v in tfidf.idf_],
            svd_components=comps.tolist(),
            categories=list(CATEGORIES), genders=list(GENDERS), traffic_sources=list(TRAFFIC_SOURCES),
            minmax={"price": [float(products.price.min()), float(products.price.max())],
                    **{c: [float(users[c].min()), float(users[c].max())] for c in ("age", "lat", "lon")}},
        )

    # --- storage
    def to_dict(self) -> dict:
        return {"format": "course_lib.world.FeatureArtifact/1", **self.__dict__}

    @classmethod
    def from_dict(cls, d: dict) -> FeatureArtifact:
        d = {k: v for k, v in d.items() if k != "format"}
        return cls(**d)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> FeatureArtifact:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    # --- transforms
    def scale(self, column: str, values: Any) -> np.ndarray:
        """Min-max scale ``values`` of ``column`` (price, age, lat, lon) with the fitted range."""
        lo, hi = self.minmax[column]
        return (np.asarray(values, dtype=float) - lo) / (hi - lo)

    def text_embedding(self, texts: Any) -> np.ndarray:
        """TF-IDF (fitted vocabulary and idf) projected on the SVD components: ``(n, 10)``."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        tfidf = TfidfVectorizer(stop_words="english", vocabulary=self.vocabulary)
        tfidf.idf_ = np.asarray(self.idf)
        return np.asarray(tfidf.transform(list(texts)) @ np.asarray(self.svd_components).T)

    @property
    def product_feature_names(self) -> list[str]:
        return ([f"text_svd_{i}" for i in range(SVD_DIM)] + [f"category={c}" for c in self.categories]
                + ["price", "is_coffee"])

    @property
    def user_feature_names(self) -> list[str]:
        return ([f"gender={g}" for g in self.genders] + [f"source={s}" for s in self.traffic_sources]
                + ["age", "lat", "lon"])

    def transform_products(self, products: pd.DataFrame) -> np.ndarray:
        """Arm features ``(n_products, 20)``, columns ``product_feature_names``."""
        unknown = set(products["category"]) - set(self.categories)
        if unknown:
            raise ValueError(f"unknown product categories {sorted(unknown)}; known: {self.categories}")
        onehot = (products["category"].to_numpy()[:, None] == np.array(self.categories)[None]).astype(float)
        return np.column_stack([self.text_embedding(products["description"]), onehot,
                                self.scale("price", products["price"]),
                                products["is_coffee"].to_numpy(dtype=float)])

    def transform_users(self, users: pd.DataFrame) -> np.ndarray:
        """User features ``(n_users, 10)``, columns ``user_feature_names``."""
        for col, known in (("gender", self.genders), ("traffic_source", self.traffic_sources)):
            unknown = set(users[col]) - set(known)
            if unknown:
                raise ValueError(f"unknown {col} values {sorted(unknown)}; known: {known}")
        g = (users["gender"].to_numpy()[:, None] == np.array(self.genders)[None]).astype(float)
        s = (users["traffic_source"].to_numpy()[:, None] == np.array(self.traffic_sources)[None]).astype(float)
        return np.column_stack([g, s] + [self.scale(c, users[c]) for c in ("age", "lat", "lon")])


# ----------------------------------------------------------------------------- the hidden click model


@dataclass(frozen=True)
class GroundTruth:
    """The hidden click model, the oracle: the learner never sees it.

    logit = -2.5 + 2.5 [morning and coffee] + 1.8 [weekend and pizza or burger]
            - 3.0 [age < 0.25 and price > 0.8] + 0.5 [source is Search]   (ages, prices min-max scaled)
    click ~ Bernoulli(sigmoid(logit)).
    """

    base: float = -2.5
    morning_coffee: float = 2.5
    weekend_pizza_burger: float = 1.8
    young_pricey: float = -3.0
    search: float = 0.5
    young_below: float = 0.25
    pricey_above: float = 0.8

    def logit(self, is_morning, is_weekend, is_coffee, is_pizza_or_burger, age_scaled, price_scaled,
              is_search) -> np.ndarray:
        """Click logit, NumPy-broadcast over its arguments (booleans and scaled floats)."""
        return (self.base
                + self.morning_coffee * (np.asarray(is_morning, bool) & np.asarray(is_coffee, bool))
                + self.weekend_pizza_burger * (np.asarray(is_weekend, bool) & np.asarray(is_pizza_or_burger, bool))
                + self.young_pricey * ((np.asarray(age_scaled) < self.young_below)
                                       & (np.asarray(price_scaled) > self.pricey_above))
                + self.search * np.asarray(is_search, bool))

    def probability(self, *args, **kwargs) -> np.ndarray:
        """Click probability sigmoid(logit); same arguments as ``logit``."""
        return sigmoid(self.logit(*args, **kwargs))


# ----------------------------------------------------------------------------- the world


@dataclass
class World:
    """Everything of the product world; see the module docstring for the API."""

    products: pd.DataFrame
    users: pd.DataFrame
    log: pd.DataFrame
    artifact: FeatureArtifact
    truth: GroundTruth = field(default_factory=GroundTruth)
    seed: int = DEFAULT_SEED

    def __post_init__(self) -> None:
        self.product_features = self.artifact.transform_products(self.products)
        self.user_features = self.artifact.transform_users(self.users)
        self.product_feature_names = self.artifact.product_feature_names
        self.context_names = self.artifact.user_feature_names + list(TIME_NAMES)
        p = self.products
        self._is_coffee = p["is_coffee"].to_numpy(bool)
        self._is_pizza_burger = p["category"].isin(["pizzas", "burgers and sandwiches"]).to_numpy()
        self._price_scaled = self.artifact.scale("price", p["price"])
        self._age_scaled = self.artifact.scale("age", self.users["age"])
        self._is_search = (self.users["traffic_source"] == "Search").to_numpy()

    @property
    def n_products(self) -> int:
        return len(self.products)

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def context_dim(self) -> int:
        return len(self.context_names)

    def add_product(self, name: str = "Cold Brew Coffee",
                    description: str = "Cold Brew Coffee: coffee steeped cold for eighteen hours, served over ice.",
                    price: float = 6.5, category: str = "drinks and desserts", is_coffee: bool = True) -> int:
        """Add a product to the catalogue (cold start); the artifact featurises it. Returns its id."""
        row = pd.DataFrame([{"product_id": self.n_products, "name": name, "description": description,
                             "price": float(price), "category": category, "is_coffee": bool(is_coffee)}])
        self.artifact.transform_products(row)  # validates the category before anything changes
        self.products = pd.concat([self.products, row], ignore_index=True)
        self.__post_init__()
        return self.n_products - 1

    def context(self, user_ids: Any, timestamps: Any) -> np.ndarray:
        """Context vectors ``(n, d)`` for visits of ``user_ids`` at ``timestamps`` (``context_names``)."""
        u = ids("user_ids", user_ids, self.n_users)
        tf = time_features(timestamps)
        u, t_idx = np.broadcast_arrays(u, np.zeros(tf.shape[:-1], dtype=int))
        return np.concatenate([self.user_features[u], np.broadcast_to(tf, u.shape + (3,))], axis=-1)

    def click_probability(self, user_ids: Any, product_ids: Any, timestamps: Any) -> np.ndarray:
        """The oracle's exact click probability, broadcast over the three index/time arrays."""
        u = ids("user_ids", user_ids, self.n_users)
        p = ids("product_ids", product_ids, self.n_products)
        tf = time_features(timestamps)
        return self.truth.probability(tf[..., 0], tf[..., 1], self._is_coffee[p], self._is_pizza_burger[p],
                                      self._age_scaled[u], self._price_scaled[p], self._is_search[u])

    def sample_clicks(self, user_ids: Any, product_ids: Any, timestamps: Any,
                      rng: np.random.Generator) -> np.ndarray:
        """Bernoulli clicks (0/1 ints) drawn from ``click_probability``."""
        prob = self.click_probability(user_ids, product_ids, timestamps)
        return (rng.random(prob.shape) < prob).astype(int)

    def best_click_probability(self, user_ids: Any, timestamps: Any) -> tuple[np.ndarray, np.ndarray]:
        """Per visit, the oracle-best product and its click probability (the best possible policy)."""
        u = np.asarray(user_ids)[..., None]
        t = _as_datetime64(timestamps)[..., None]
        prob = self.click_probability(u, np.arange(self.n_products), t)
        best = prob.argmax(-1)
        return best, np.take_along_axis(prob, best[..., None], -1)[..., 0]

    def save(self, data_dir: str | Path) -> None:
        """Write the CSVs and the JSON artifact to ``data_dir`` (the package's copy: ``course_lib/sim/data``)."""
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.products.to_csv(data_dir / FILES["products"], index=False)
        self.users.to_csv(data_dir / FILES["users"], index=False)
        log = self.log.copy()
        log["timestamp"] = log["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S")
        log.to_csv(data_dir / FILES["log"], index=False)
        self.artifact.save(data_dir / FILES["artifact"])


def make_log(world: World, seed: int = DEFAULT_SEED, n_events: int = N_LOG) -> pd.DataFrame:
    """A historical log of ``n_events`` uniformly random (user, product, time) with oracle clicks.

    Times fall on four weeks from Monday 2024-01-01, 07:00-22:00, a weekend day drawing
    ``WEEKEND_TRAFFIC`` times the visits of a weekday.  The logging policy is uniform over products,
    so ``propensity = 1 / n_products``.
    """
    rng = np.random.default_rng([seed, 3])
    users = rng.integers(0, world.n_users, n_events)
    products = rng.integers(0, world.n_products, n_events)
    weekend = (np.arange(LOG_DAYS) % 7) >= 5
    weights = np.where(weekend, WEEKEND_TRAFFIC, 1.0)
    day = rng.choice(LOG_DAYS, size=n_events, p=weights / weights.sum())
    minute = rng.integers(7 * 60, 22 * 60, n_events)
    ts = (np.datetime64(LOG_START, "m") + (day * 1440 + minute).astype("timedelta64[m]")).astype("datetime64[s]")
    clicks = world.sample_clicks(users, products, ts, rng)
    tf = time_features(ts)
    log = pd.DataFrame({"user_id": users, "product_id": products, "timestamp": pd.to_datetime(ts)})
    for i, name in enumerate(TIME_NAMES):
        log[name] = tf[:, i].astype(int)
    log["click"] = clicks
    log["propensity"] = 1.0 / world.n_products
    log["timestamp"] = log["timestamp"].astype("datetime64[ns]")
    return log


def build_world(seed: int = DEFAULT_SEED, n_users: int = N_USERS, n_log: int = N_LOG) -> World:
    """Regenerate the whole world (catalogue, users, artifact, log) from one seed."""
    products = make_products(seed)
    users = make_users(seed, n_users)
    artifact = FeatureArtifact.fit(products, users, seed)
    empty = pd.DataFrame({"user_id": [], "product_id": [], "timestamp": pd.to_datetime([])})
    world = World(products, users, empty, artifact, seed=seed)
    world.log = make_log(world, seed, n_log)
    return world


def load_world(data_dir: str | Path | None = None) -> World:
    """The committed world (what ``build_world(DEFAULT_SEED)`` regenerates, ``tests/test_world.py``).

    With no ``data_dir`` it reads the package data ``course_lib/sim/data`` through
    ``importlib.resources``, so it works from any working directory and from a non-editable install.
    """
    if data_dir is None:
        with resources.as_file(resources.files("course_lib.sim") / "data") as path:
            return _read_world(Path(path))
    return _read_world(Path(data_dir))


def _read_world(data_dir: Path) -> World:
    missing = [f for f in FILES.values() if not (data_dir / f).exists()]
    if missing:
        raise ValueError(f"missing {missing} in {data_dir}; write them with "
                         "course_lib.sim.world.build_world().save(data_dir)")
    products = pd.read_csv(data_dir / FILES["products"])
    users = pd.read_csv(data_dir / FILES["users"])
    log = pd.read_csv(data_dir / FILES["log"], parse_dates=["timestamp"])
    log["timestamp"] = log["timestamp"].astype("datetime64[ns]")
    artifact = FeatureArtifact.load(data_dir / FILES["artifact"])
    return World(products, users, log, artifact, seed=DEFAULT_SEED)


# ----------------------------------------------------------------------------- a finite view (lesson 06)
#: The four time slots the hidden click model distinguishes, with a representative visit time.
TIME_SLOTS = (("weekday afternoon", "2024-01-01 15:00"), ("weekday morning", "2024-01-01 08:00"),
              ("weekend afternoon", "2024-01-06 15:00"), ("weekend morning", "2024-01-06 08:00"))


@dataclass(frozen=True)
class ContextTable:
    """Every context of the world, one row per (user, time slot): C = n_users * 4 rows.

    ``click_probs`` (C, K) is the oracle's exact click probability, ``probs`` (C,) how often
    each context occurs (users uniform, slots as often as in the world's log), ``features``
    (C, d) the context vectors a model sees.  Row of user u in slot s: ``4 * u + s``.
    """

    users: np.ndarray
    slots: np.ndarray
    timestamps: np.ndarray
    probs: np.ndarray
    click_probs: np.ndarray
    features: np.ndarray

    def index(self, user_ids, is_morning, is_weekend) -> np.ndarray:
        """Context row of logged visits (arrays of user ids and 0/1 time flags)."""
        return 4 * np.asarray(user_ids) + np.asarray(is_morning, int) + 2 * np.asarray(is_weekend, int)


def context_table(world) -> ContextTable:
    """Build the ``ContextTable`` of a ``course_lib.sim.world.World`` from its public API."""
    n_users, k = world.n_users, world.n_products
    users = np.repeat(np.arange(n_users), len(TIME_SLOTS))
    slots = np.tile(np.arange(len(TIME_SLOTS)), n_users)
    stamps = np.array([np.datetime64(t, "s") for _, t in TIME_SLOTS])[slots]
    q = world.click_probability(users[:, None], np.arange(k)[None, :], stamps[:, None])
    log = world.log
    slot_freq = np.bincount(log["is_morning"].to_numpy(int) + 2 * log["is_weekend"].to_numpy(int),
                            minlength=len(TIME_SLOTS)) / len(log)
    probs = slot_freq[slots] / n_users
    return ContextTable(users, slots, stamps, probs, q, world.context(users, stamps))
