"""Lesson 03 (and 06): the product world of the real-time recommender.

A catalogue of 200 food-and-coffee products, 1,000 synthetic users made with Faker, a
scikit-learn feature artifact, a dynamic time context, the hidden click model
(``GroundTruth``) and a random historical log.  ``build_world(seed)`` regenerates all of it
in one call; ``load_world()`` reads the committed copy under ``data/``.

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
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
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

# (category, price range in dollars, [(name, description words)]).  Written for this course.
_CATALOGUE: list[tuple[str, tuple[float, float], list[tuple[str, str]]]] = [
    ("pizzas", (14.0, 30.0), [
        ("Margherita Pizza", "tomato, fior di latte and fresh basil on a wood-fired base"),
        ("Pepperoni Pizza", "spicy pepperoni, mozzarella and tomato sugo"),
        ("Hawaiian Pizza", "leg ham, pineapple and mozzarella"),
        ("Capricciosa Pizza", "ham, mushrooms, artichokes, olives and mozzarella"),
        ("Quattro Formaggi Pizza", "mozzarella, gorgonzola, parmesan and fontina"),
        ("Diavola Pizza", "hot salami, chilli, olives and tomato"),
        ("Vegetarian Pizza", "roasted capsicum, eggplant, zucchini, mushroom and olives"),
        ("BBQ Chicken Pizza", "smoky barbecue chicken, red onion and mozzarella"),
        ("Supreme Pizza", "pepperoni, beef, capsicum, onion, mushroom and olives"),
        ("Prosciutto Rocket Pizza", "prosciutto, rocket, shaved parmesan and tomato"),
        ("Mushroom Truffle Pizza", "wild mushrooms, truffle oil, thyme and mozzarella"),
        ("Garlic Prawn Pizza", "garlic prawns, chilli, parsley and lemon"),
        ("Pumpkin Feta Pizza", "roast pumpkin, feta, spinach and pine nuts"),
        ("Meat Lovers Pizza", "bacon, ham, pepperoni, beef and barbecue sauce"),
        ("Calzone", "folded pizza filled with ham, ricotta and mozzarella"),
        ("Marinara Pizza", "tomato, garlic, oregano and olive oil, no cheese"),
        ("Lamb Tzatziki Pizza", "spiced lamb, red onion, tzatziki and mint"),
        ("Chorizo Pizza", "chorizo, roasted peppers, olives and smoked paprika"),
        ("Spinach Ricotta Pizza", "spinach, ricotta, garlic and mozzarella"),
        ("Buffalo Chicken Pizza", "buffalo chicken, celery, blue cheese and hot sauce"),
        ("Seafood Pizza", "prawns, calamari, mussels, garlic and tomato"),
        ("Pesto Chicken Pizza", "chicken, basil pesto, sun-dried tomato and feta"),
        ("Salami Olive Pizza", "sopressa salami, kalamata olives and oregano"),
        ("Kids Cheese Pizza", "a small pizza with tomato and mozzarella"),
        ("Wagyu Truffle Pizza", "wagyu beef, black truffle, porcini and aged parmesan"),
    ]),
    ("burgers and sandwiches", (10.0, 26.0), [
        ("Classic Beef Burger", "beef patty, cheddar, lettuce, tomato and burger sauce"),
        ("Double Cheeseburger", "two beef patties, double cheddar, pickles and mustard"),
        ("Chicken Burger", "crispy fried chicken, slaw and aioli"),
        ("Bacon Burger", "beef patty, smoky bacon, cheddar and barbecue sauce"),
        ("Veggie Burger", "chickpea and quinoa patty, avocado and relish"),
        ("Fish Burger", "battered fish fillet, tartare sauce and lettuce"),
        ("Lamb Burger", "spiced lamb patty, beetroot, feta and mint yoghurt"),
        ("Pulled Pork Burger", "slow-cooked pulled pork, apple slaw and chipotle mayo"),
        ("Mushroom Swiss Burger", "beef patty, sauteed mushrooms and swiss cheese"),
        ("Aussie Burger with the Lot", "beef, egg, bacon, beetroot, pineapple and cheese"),
        ("Spicy Chicken Burger", "chilli fried chicken, jalapenos and sriracha mayo"),
        ("Halloumi Burger", "grilled halloumi, roast capsicum and rocket"),
        ("Steak Sandwich", "grilled sirloin, caramelised onion and mustard on toasted bread"),
        ("Club Sandwich", "chicken, bacon, egg, lettuce and tomato on triple toast"),
        ("BLT Sandwich", "bacon, lettuce and tomato on sourdough"),
        ("Reuben Sandwich", "corned beef, sauerkraut, swiss cheese and russian dressing"),
        ("Ham Cheese Toastie", "leg ham and cheddar toasted sandwich"),
        ("Chicken Avocado Wrap", "grilled chicken, avocado, lettuce and aioli in a wrap"),
        ("Falafel Wrap", "falafel, hummus, tabouli and pickled turnip"),
        ("Cuban Sandwich", "roast pork, ham, swiss cheese, pickles and mustard"),
        ("Tuna Melt", "tuna, cheddar and red onion toasted on rye"),
        ("Egg and Bacon Roll", "fried egg, bacon and barbecue sauce on a soft roll"),
        ("Philly Cheesesteak", "shaved beef, onions, peppers and melted provolone"),
        ("Slider Trio", "three mini beef burgers with pickles and cheese"),
        ("Wagyu Burger", "premium wagyu patty, truffle aioli, aged cheddar and brioche"),
    ]),
    ("pub classics", (18.0, 38.0), [
        ("Chicken Parmigiana", "crumbed chicken schnitzel, napoli sauce and melted cheese"),
        ("Chicken Schnitzel", "crumbed chicken breast with chips and salad"),
        ("Fish and Chips", "beer-battered flathead, chips, lemon and tartare"),
        ("Bangers and Mash", "pork sausages, creamy mash and onion gravy"),
        ("Beef and Guinness Pie", "slow-cooked beef in stout under flaky pastry"),
        ("Porterhouse Steak", "grilled porterhouse with chips, salad and pepper sauce"),
        ("Lamb Shank", "braised lamb shank, mash and red wine jus"),
        ("Pork Belly", "crispy pork belly, apple puree and greens"),
        ("Roast of the Day", "roast meat, roast vegetables and gravy"),
        ("Shepherds Pie", "minced lamb and vegetables under golden mash"),
        ("Bangalow Pork Ribs", "sticky barbecue pork ribs with chips"),
        ("Salt and Pepper Calamari", "crispy calamari, rocket and lemon aioli"),
        ("Grilled Barramundi", "barramundi fillet, greens and lemon butter"),
        ("Chicken Kiev", "crumbed chicken filled with garlic butter, mash and peas"),
        ("Beef Lasagne Plate", "beef lasagne with chips and salad"),
        ("Ploughmans Platter", "cheddar, ham, pickles, bread and chutney"),
        ("Irish Stew", "lamb, potato and carrot stew with crusty bread"),
        ("Mixed Grill", "steak, sausage, lamb chop, bacon and egg"),
        ("Chicken Pot Pie", "chicken and leek in creamy sauce under pastry"),
        ("Scotch Fillet", "grilled scotch fillet with mushroom sauce and chips"),
        ("Beer Battered Flathead Tacos", "flathead, slaw and lime mayo"),
        ("Chilli Con Carne Bowl", "beef and bean chilli with rice and sour cream"),
        ("Veggie Pie", "roast vegetable and lentil pie with salad"),
        ("Tomahawk Steak", "a one-kilo tomahawk for sharing, chips and three sauces"),
        ("Seafood Platter", "oysters, prawns, bugs, calamari and fish for two"),
    ]),
    ("Mexican", (9.0, 24.0), [
        ("Beef Tacos", "spiced beef, pico de gallo and cheese in soft tortillas"),
        ("Fish Tacos", "grilled fish, cabbage, chipotle mayo and lime"),
        ("Chicken Burrito", "chicken, rice, black beans, salsa and cheese"),
        ("Beef Burrito", "shredded beef, rice, beans, guacamole and sour cream"),
        ("Veggie Burrito", "roast vegetables, rice, beans and salsa verde"),
        ("Chicken Quesadilla", "grilled chicken and melted cheese in a crispy tortilla"),
        ("Cheese Quesadilla", "three cheeses and jalapenos in a crispy tortilla"),
        ("Nachos", "corn chips, beef chilli, cheese, guacamole and sour cream"),
        ("Vegetarian Nachos", "corn chips, black beans, cheese, salsa and guacamole"),
        ("Chicken Enchiladas", "rolled tortillas, chicken, red sauce and cheese"),
        ("Pork Carnitas Tacos", "slow-cooked pork, onion, coriander and salsa roja"),
        ("Chicken Fajitas", "sizzling chicken, peppers and onions with tortillas"),
        ("Burrito Bowl", "rice, beans, corn, salsa, cheese and chicken"),
        ("Chimichanga", "deep-fried burrito with beef and cheese"),
        ("Tostadas", "crispy tortillas with beans, lettuce and queso fresco"),
        ("Prawn Tacos", "garlic prawns, mango salsa and lime crema"),
        ("Elote", "grilled corn with chipotle mayo, cotija and lime"),
        ("Guacamole and Chips", "fresh guacamole with corn chips"),
        ("Churros", "fried dough with cinnamon sugar and chocolate sauce"),
        ("Mexican Rice", "tomato rice with peas and coriander"),
        ("Jalapeno Poppers", "jalapenos stuffed with cream cheese, crumbed and fried"),
        ("Taquitos", "rolled fried tortillas with chicken and salsa"),
        ("Breakfast Burrito", "scrambled egg, chorizo, potato and cheese"),
        ("Pozole", "pork and hominy soup with radish and lime"),
        ("Mole Chicken", "chicken in rich chocolate chilli mole with rice"),
    ]),
    ("pasta and risotto", (16.0, 34.0), [
        ("Spaghetti Bolognese", "spaghetti with slow-cooked beef ragu and parmesan"),
        ("Fettuccine Carbonara", "fettuccine, pancetta, egg yolk and pecorino"),
        ("Penne Arrabbiata", "penne in spicy tomato and garlic sauce"),
        ("Lasagne", "layers of pasta, beef ragu, bechamel and cheese"),
        ("Gnocchi Napoli", "potato gnocchi, tomato sugo and basil"),
        ("Pesto Linguine", "linguine, basil pesto, pine nuts and parmesan"),
        ("Marinara Linguine", "linguine with prawns, mussels, calamari and tomato"),
        ("Mushroom Risotto", "arborio rice, mixed mushrooms, parmesan and thyme"),
        ("Pumpkin Risotto", "roast pumpkin, sage, feta and pine nuts"),
        ("Chicken Pesto Penne", "penne, chicken, pesto cream and sun-dried tomato"),
        ("Spaghetti Aglio Olio", "spaghetti, garlic, chilli and olive oil"),
        ("Ravioli Burro e Salvia", "spinach ricotta ravioli, brown butter and sage"),
        ("Beef Cheek Pappardelle", "pappardelle with braised beef cheek ragu"),
        ("Prawn Risotto", "prawns, peas, lemon and chilli risotto"),
        ("Pasta Primavera", "spring vegetables, garlic and olive oil with penne"),
        ("Mac and Cheese", "macaroni in a three-cheese sauce, baked golden"),
        ("Spaghetti Meatballs", "beef and pork meatballs in tomato sauce"),
        ("Gnocchi Gorgonzola", "gnocchi in gorgonzola cream with walnuts"),
        ("Pasta Puttanesca", "spaghetti, olives, capers, anchovies and tomato"),
        ("Chicken Mushroom Fettuccine", "fettuccine, chicken and mushroom cream sauce"),
        ("Vegan Lentil Bolognese", "spaghetti with lentil and vegetable ragu"),
        ("Tortellini Boscaiola", "tortellini, bacon, mushroom and cream"),
        ("Cacio e Pepe", "spaghetti, pecorino and black pepper"),
        ("Lobster Linguine", "half a lobster, cherry tomato, chilli and bisque"),
        ("Black Truffle Risotto", "carnaroli rice, shaved black truffle and aged parmesan"),
    ]),
    ("salads", (10.0, 22.0), [
        ("Caesar Salad", "cos lettuce, bacon, croutons, egg and parmesan"),
        ("Greek Salad", "tomato, cucumber, olives, red onion and feta"),
        ("Garden Salad", "mixed leaves, tomato, cucumber and vinaigrette"),
        ("Chicken Caesar Salad", "caesar salad with grilled chicken breast"),
        ("Quinoa Salad", "quinoa, roast vegetables, chickpeas and tahini"),
        ("Nicoise Salad", "tuna, egg, green beans, potato and olives"),
        ("Thai Beef Salad", "seared beef, herbs, chilli and lime dressing"),
        ("Caprese Salad", "tomato, buffalo mozzarella and basil"),
        ("Poke Bowl", "salmon, rice, edamame, avocado and sesame"),
        ("Pumpkin Feta Salad", "roast pumpkin, feta, spinach and seeds"),
        ("Cobb Salad", "chicken, bacon, egg, avocado and blue cheese"),
        ("Waldorf Salad", "apple, celery, walnuts and grapes in a light mayo"),
        ("Falafel Salad", "falafel, hummus, tabouli and greens"),
        ("Haloumi Salad", "grilled haloumi, pomegranate and mint"),
        ("Smoked Salmon Salad", "smoked salmon, capers, dill and leaves"),
        ("Tabouli", "parsley, mint, bulgur, tomato and lemon"),
        ("Asian Slaw", "cabbage, carrot, coriander and sesame dressing"),
        ("Beetroot Goat Cheese Salad", "roast beetroot, goat cheese and walnuts"),
        ("Chicken Avocado Salad", "grilled chicken, avocado, tomato and leaves"),
        ("Roast Vegetable Salad", "roast vegetables, rocket and balsamic"),
        ("Sushi Salad Bowl", "rice, tuna, cucumber, nori and wasabi mayo"),
        ("Kale Superfood Salad", "kale, quinoa, berries, seeds and lemon"),
        ("Potato Salad", "potato, egg, chives and creamy dressing"),
        ("Panzanella", "bread, tomato, cucumber, onion and basil"),
        ("Lentil Salad", "lentils, roast capsicum, feta and herbs"),
    ]),
    ("appetisers and sides", (5.0, 16.0), [
        ("Garlic Bread", "toasted bread with garlic butter and parsley"),
        ("Cheesy Garlic Bread", "garlic bread topped with melted mozzarella"),
        ("Bowl of Chips", "crispy chips with tomato sauce"),
        ("Sweet Potato Fries", "sweet potato fries with aioli"),
        ("Wedges", "potato wedges with sour cream and sweet chilli"),
        ("Onion Rings", "beer-battered onion rings"),
        ("Chicken Wings", "buffalo wings with blue cheese dip"),
        ("Arancini", "fried risotto balls with mozzarella and napoli"),
        ("Bruschetta", "toasted bread with tomato, basil and olive oil"),
        ("Mozzarella Sticks", "crumbed mozzarella with marinara"),
        ("Spring Rolls", "vegetable spring rolls with sweet chilli"),
        ("Dumplings", "steamed pork dumplings with soy and vinegar"),
        ("Potato Scallops", "battered potato slices, a chip-shop favourite"),
        ("Hummus and Pita", "hummus with warm pita bread"),
        ("Olives", "marinated mixed olives"),
        ("Loaded Fries", "fries with cheese sauce, bacon and spring onion"),
        ("Side Salad", "a small garden salad"),
        ("Steamed Greens", "broccolini, beans and lemon butter"),
        ("Coleslaw", "creamy cabbage and carrot slaw"),
        ("Mashed Potato", "creamy potato mash with butter"),
        ("Dim Sims", "steamed or fried dim sims with soy sauce"),
        ("Calamari Rings", "crumbed calamari rings with lemon"),
        ("Halloumi Fries", "fried halloumi with honey and za'atar"),
        ("Prawn Cutlets", "crumbed prawns with cocktail sauce"),
        ("Cheese Board", "three cheeses, crackers, quince and grapes"),
    ]),
    ("drinks and desserts", (3.5, 14.0), [
        ("Espresso", "a short black, a single shot of espresso coffee"),
        ("Flat White", "espresso coffee with velvety steamed milk"),
        ("Long Black", "a double shot of espresso coffee over hot water"),
        ("Latte", "espresso coffee with steamed milk and light foam"),
        ("Cappuccino", "espresso coffee, steamed milk, foam and chocolate dust"),
        ("Iced Coffee", "chilled espresso coffee, milk, ice cream and cream"),
        ("Mocha", "espresso coffee with chocolate and steamed milk"),
        ("Piccolo Latte", "a ristretto coffee shot with a little steamed milk"),
        ("English Breakfast Tea", "a pot of black tea"),
        ("Chai Latte", "spiced chai with steamed milk"),
        ("Hot Chocolate", "rich chocolate with steamed milk"),
        ("Fresh Orange Juice", "freshly squeezed orange juice"),
        ("Lemon Lime Bitters", "lemonade, lime cordial and bitters"),
        ("Cola", "a chilled can of cola"),
        ("Sparkling Water", "a bottle of sparkling mineral water"),
        ("Banana Smoothie", "banana, honey, yoghurt and milk"),
        ("Berry Smoothie", "mixed berries, yoghurt and apple juice"),
        ("Chocolate Milkshake", "chocolate syrup, ice cream and milk"),
        ("Tiramisu", "coffee-soaked savoiardi, mascarpone and cocoa"),
        ("Sticky Date Pudding", "date pudding with butterscotch sauce and ice cream"),
        ("Pavlova", "meringue, cream, passionfruit and berries"),
        ("Chocolate Lava Cake", "warm chocolate cake with a molten centre"),
        ("Apple Crumble", "baked apple, crumble topping and custard"),
        ("Gelato Trio", "three scoops of house-made gelato"),
        ("Cheesecake", "baked vanilla cheesecake with berry coulis"),
    ]),
]
_COFFEES = {"Espresso", "Flat White", "Long Black", "Latte", "Cappuccino", "Iced Coffee", "Mocha",
            "Piccolo Latte"}
# The priciest items: premium dishes well above their category's range.
_PREMIUM = {"Wagyu Truffle Pizza": 44.0, "Wagyu Burger": 42.0, "Tomahawk Steak": 48.0,
            "Seafood Platter": 46.0, "Lobster Linguine": 45.0, "Black Truffle Risotto": 41.0}
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
        return 1.0 / (1.0 + np.exp(-self.logit(*args, **kwargs)))


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

    def _ids(self, ids: Any, n: int, what: str) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu":
            raise ValueError(f"{what} must be integer indices, got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= n):
            raise ValueError(f"{what} must lie in [0, {n}), got values from {ids.min()} to {ids.max()}")
        return ids

    def context(self, user_ids: Any, timestamps: Any) -> np.ndarray:
        """Context vectors ``(n, d)`` for visits of ``user_ids`` at ``timestamps`` (``context_names``)."""
        u = self._ids(user_ids, self.n_users, "user_ids")
        tf = time_features(timestamps)
        u, t_idx = np.broadcast_arrays(u, np.zeros(tf.shape[:-1], dtype=int))
        return np.concatenate([self.user_features[u], np.broadcast_to(tf, u.shape + (3,))], axis=-1)

    def click_probability(self, user_ids: Any, product_ids: Any, timestamps: Any) -> np.ndarray:
        """The oracle's exact click probability, broadcast over the three index/time arrays."""
        u = self._ids(user_ids, self.n_users, "user_ids")
        p = self._ids(product_ids, self.n_products, "product_ids")
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

    def save(self, data_dir: str | Path = DATA_DIR) -> None:
        """Write the CSVs and the JSON artifact to ``data_dir``."""
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


def load_world(data_dir: str | Path = DATA_DIR) -> World:
    """The committed world under ``data/`` (what ``build_world(DEFAULT_SEED)`` regenerates)."""
    data_dir = Path(data_dir)
    missing = [f for f in FILES.values() if not (data_dir / f).exists()]
    if missing:
        raise ValueError(f"missing {missing} in {data_dir}; run course_lib.sim.world.build_world().save()")
    products = pd.read_csv(data_dir / FILES["products"])
    users = pd.read_csv(data_dir / FILES["users"])
    log = pd.read_csv(data_dir / FILES["log"], parse_dates=["timestamp"])
    log["timestamp"] = log["timestamp"].astype("datetime64[ns]")
    artifact = FeatureArtifact.load(data_dir / FILES["artifact"])
    return World(products, users, log, artifact, seed=DEFAULT_SEED)
