"""Write a small synthetic dataset of customer-support tickets, the README's own-data example:

    python examples/own_data.py data/tickets
    agnews data check data/tickets
    agnews train --data data/tickets --out runs/tickets

It writes `train.csv` and `test.csv` (header `text,label`, labels are class names) into OUT_FOLDER.
The tickets look like real ones on purpose, so the example exercises what real data does: class
names with spaces, slashes and an ampersand; texts from a few words to a few hundred; classes of
unequal size; sentences that belong to another class (a refund request that mentions a login); a
few mislabelled rows. Each class has its own vocabulary, so a tiny model learns it, but not to
100%. Deterministic for a seed; only the standard library and numpy.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

# The classes, in the order `--classes N` takes them, each with sentences only it uses ({...} are filled).
CLASS_SENTENCES: dict[str, tuple[str, ...]] = {
    "Billing / Payments": (
        "I was charged twice for order {order} this month.",
        "My card was billed {amount} but the invoice says something else.",
        "Why did my subscription price go up without notice?",
        "The payment keeps failing at checkout even though my card is valid.",
        "Can you send me a VAT invoice for my last payment?",
        "There is an unknown charge of {amount} on my bank statement from you.",
        "I want to switch my plan from monthly to yearly billing.",
        "Please update the billing address on my account to {city}.",
        "My direct debit was declined and now I have a late fee.",
        "The discount code was not applied to the total I paid.",
    ),
    "Login & Account Access": (
        "I can't log in, it says my password is wrong.",
        "The password reset email never arrives.",
        "My account is locked after too many attempts.",
        "Two-factor authentication codes are not accepted on my {device}.",
        "I changed my phone number and can no longer receive the verification code.",
        "Someone else may have accessed my account from {city}.",
        "I want to change the email address I sign in with.",
        "The app logs me out every few minutes on my {device}.",
        "Single sign-on with my work account shows an error page.",
        "How do I merge two accounts I created by mistake?",
    ),
    "Shipping/Delivery": (
        "Order {order} still hasn't arrived after {days} days.",
        "The tracking number shows no movement since {date}.",
        "The parcel was delivered to the wrong address in {city}.",
        "The courier marked my package as delivered but I never got it.",
        "Can I change the delivery address of order {order}?",
        "Do you ship to {city} and how long does it take?",
        "The box arrived damaged and the {product} inside is scratched.",
        "Express shipping took longer than standard would have.",
        "I need the delivery before {date}, is that possible?",
        "Only part of my order arrived, the {product} is missing.",
    ),
    "Bug report": (
        "The {product} page crashes when I click the save button.",
        "After the latest update the app freezes on my {device}.",
        "Search results are empty even for items I know exist.",
        "The export to PDF produces a blank file.",
        "I get error code {code} whenever I upload a photo.",
        "Notifications show up twice on my {device}.",
        "The dark mode makes the text invisible in the settings screen.",
        "Dates are shown in the wrong time zone since {date}.",
        "The page keeps loading forever and never shows the dashboard.",
        "Steps to reproduce: open the {product} tab, scroll down, the app closes.",
    ),
    "Refunds / Returns": (
        "I would like to return the {product} I bought on {date}.",
        "When will I get my refund for order {order}?",
        "The return label you sent does not work at the post office.",
        "I sent the {product} back {days} days ago and still no refund.",
        "Can I exchange the {product} for a different size instead of a refund?",
        "The refund was only partial, {amount} is missing.",
        "Is the return free or do I pay for postage?",
        "I cancelled within the trial and want my money back.",
        "The item is faulty and I want a replacement or a refund.",
        "Your returns portal says my order is not eligible.",
    ),
    "Feature request": (
        "It would be great if I could export my data to a spreadsheet.",
        "Please add a dark mode to the {device} app.",
        "Could you support more languages in the interface?",
        "I'd love a way to schedule reports every week.",
        "Any plans to integrate with calendar apps?",
        "Please let us share a list with other people on the team.",
        "A keyboard shortcut for search would save me a lot of time.",
        "Would you consider an option to hide finished items?",
        "It would help to have bulk editing for many {product} entries at once.",
        "Suggestion: show a preview before I publish.",
    ),
    "Privacy / Data deletion": (
        "Please delete my account and all personal data you hold.",
        "I want a copy of all the data you have about me under GDPR.",
        "Why do you share my email with third parties?",
        "How long do you keep my purchase history?",
        "Stop sending me marketing emails, I never agreed to them.",
        "I want to withdraw my consent for tracking cookies.",
        "Who can see the documents I upload to my profile?",
        "Please remove my phone number from your records.",
        "I received a newsletter at an address I never gave you.",
        "Is my payment data stored on your servers?",
    ),
    "Order changes": (
        "Can I add another {product} to order {order} before it ships?",
        "I ordered the wrong colour, please change it to black.",
        "Please cancel order {order}, I placed it by mistake.",
        "I need to change the quantity on my last order from 2 to 1.",
        "Can you combine my two orders into one shipment?",
        "I want to upgrade order {order} to gift wrapping.",
        "Is it too late to remove an item from my order?",
        "Please swap the {product} in my order for the newer model.",
        "I want to pay for order {order} with a different card.",
        "Could you hold my order until I am back on {date}?",
    ),
}
# Said in tickets of every class: they carry no class, so texts vary in length without giving it away.
SHARED_SENTENCES: tuple[str, ...] = (
    "I have been a customer for {years} years.",
    "I already wrote to you by email but got no answer.",
    "Please get back to me as soon as possible.",
    "This is the second time this happens.",
    "My customer number is {order}.",
    "I tried on my {device} and on my laptop.",
    "Honestly this is very frustrating.",
    "Your chat bot could not help me.",
    "I live in {city}, in case that matters.",
    "Thank you for your patience with me.",
    "I attached a screenshot.",
    "It worked fine until last week.",
)
OPENERS: tuple[str, ...] = ("Hi,", "Hello,", "Hello team,", "Dear support,", "Hey there,", "Good morning,")
CLOSERS: tuple[str, ...] = ("Thanks.", "Thank you!", "Best regards.", "Cheers,", "Kind regards, {name}.", "")
FILLERS: dict[str, tuple[str, ...]] = {
    "order": tuple(f"#{n}" for n in (48213, 50911, 77310, 10294, 66502, 39018, 81127)),
    "amount": ("$12.99", "€49", "$120.00", "£7.50", "$3.20", "€199"),
    "city": ("Lyon", "Austin", "Leeds", "Porto", "Osaka", "Toronto", "Berlin"),
    "device": ("iPhone", "Android phone", "tablet", "Chromebook", "Windows PC", "Mac"),
    "product": ("headphones", "jacket", "coffee grinder", "backpack", "monitor", "invoice template"),
    "date": ("March 3", "last Friday", "the 14th", "June 30", "yesterday"),
    "days": ("5", "10", "12", "three", "fourteen"),
    "code": ("E-403", "0x80070005", "500", "ERR_TIMEOUT"),
    "years": ("two", "5", "ten", "3"),
    "name": ("Ana", "Tom", "Priya", "Jonas", "Mei"),
}
TEST_SHARE = 0.2
# Each class's share is proportional to 1 / (position + 1) ** IMBALANCE: the first class is the biggest.
IMBALANCE = 0.8
OFF_TOPIC_RATE = 0.25  # a ticket borrows one sentence from another class
LONG_TICKET_RATE = 0.05  # a ticket that goes on and on, with this many more shared sentences
LONG_TICKET_SENTENCES = 25
MISLABEL_RATE = 0.03  # a ticket carries another class's label, as real labels sometimes do
# Enough training rows in every class for a stratified 10% validation split, and test rows for each.
MIN_ROWS_PER_CLASS = 15


def class_sizes(rows: int, classes: int) -> list[int]:
    """Rows per class, imbalanced (see IMBALANCE), summing to `rows`; refuses a class too small."""
    weights = 1 / np.arange(1, classes + 1) ** IMBALANCE
    sizes = np.floor(rows * weights / weights.sum()).astype(int)
    sizes[: rows - sizes.sum()] += 1
    if sizes.min() < MIN_ROWS_PER_CLASS:
        raise ValueError(
            f"{rows} rows give the smallest of {classes} classes {sizes.min()} rows; it needs "
            f"{MIN_ROWS_PER_CLASS}: raise --rows or lower --classes"
        )
    return sizes.tolist()


def fill(sentence: str, rng: np.random.Generator) -> str:
    """`sentence` with each {slot} replaced by a random value of that slot."""
    return sentence.format(**{slot: values[rng.integers(len(values))] for slot, values in FILLERS.items()})


def ticket(label: str, names: list[str], rng: np.random.Generator) -> str:
    """One ticket of class `label`: its own sentences, shared ones, maybe another class's sentence;
    now and then a long one, and some written all in lower case."""

    def pick(options: tuple[str, ...]) -> str:
        return fill(options[rng.integers(len(options))], rng)

    long_tail = LONG_TICKET_SENTENCES if rng.random() < LONG_TICKET_RATE else 0
    body = [pick(CLASS_SENTENCES[label]) for _ in range(rng.geometric(0.5))]
    body += [pick(SHARED_SENTENCES) for _ in range(rng.poisson(1.5) + long_tail)]
    if rng.random() < OFF_TOPIC_RATE:
        body.append(pick(CLASS_SENTENCES[other_class(label, names, rng)]))
    sentences = [body[i] for i in rng.permutation(len(body))]
    if rng.random() < 0.7:
        sentences.insert(0, pick(OPENERS))
    sentences.append(pick(CLOSERS))
    text = " ".join(s for s in sentences if s)
    return text.lower() if rng.random() < 0.15 else text


def other_class(label: str, names: list[str], rng: np.random.Generator) -> str:
    """A class of `names` other than `label`, uniformly."""
    others = [name for name in names if name != label]
    return others[rng.integers(len(others))]


def make_rows(classes: int, rows: int, seed: int) -> dict[str, list[tuple[str, str]]]:
    """The train and test rows, `(text, label)`, each split shuffled; the test split takes TEST_SHARE
    of every class."""
    names = list(CLASS_SENTENCES)[:classes]
    rng = np.random.default_rng(seed)
    splits: dict[str, list[tuple[str, str]]] = {"train": [], "test": []}
    for name, size in zip(names, class_sizes(rows, classes), strict=True):
        test_rows = max(2, round(size * TEST_SHARE))
        for i in range(size):
            label = other_class(name, names, rng) if rng.random() < MISLABEL_RATE else name
            splits["test" if i < test_rows else "train"].append((ticket(name, names, rng), label))
    for split in splits.values():
        order = rng.permutation(len(split))
        split[:] = [split[i] for i in order]
    return splits


def write(folder: Path, splits: dict[str, list[tuple[str, str]]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, split in splits.items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows(split)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "out", type=Path, metavar="OUT_FOLDER", help="Folder to write train.csv and test.csv into."
    )
    parser.add_argument(
        "--classes", type=int, default=3, help=f"How many classes, 2 to {len(CLASS_SENTENCES)} (default: 3)."
    )
    parser.add_argument("--rows", type=int, default=600, help="Rows in all, train and test (default: 600).")
    parser.add_argument("--seed", type=int, default=0, help="Random seed (default: 0).")
    parser.add_argument("--overwrite", action="store_true", help="Replace train.csv and test.csv if there.")
    args = parser.parse_args(argv)
    if not 2 <= args.classes <= len(CLASS_SENTENCES):
        parser.error(f"--classes must be 2 to {len(CLASS_SENTENCES)}, got {args.classes}")
    existing = [p for p in (args.out / "train.csv", args.out / "test.csv") if p.exists()]
    if existing and not args.overwrite:
        parser.error(f"{existing[0]} exists; choose another folder or pass --overwrite")
    try:
        splits = make_rows(args.classes, args.rows, args.seed)
    except ValueError as exc:
        parser.error(str(exc))
    write(args.out, splits)
    names = ", ".join(list(CLASS_SENTENCES)[: args.classes])
    print(
        f"wrote {args.out / 'train.csv'} ({len(splits['train'])} rows) and {args.out / 'test.csv'} "
        f"({len(splits['test'])} rows); classes: {names}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
