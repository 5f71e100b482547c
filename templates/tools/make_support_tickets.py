"""Write the support-ticket corpus shipped as the text_classification sample.

The sentences below are written for mlscaffold; the script combines them with a fixed seed so the
corpus is a few hundred varied tickets in four classes (billing, technical, account, shipping). About a
third of the tickets borrow words from another class (a billing ticket that mentions logging in, a
shipping ticket about a refund), so a keyword rule makes mistakes a bag-of-words model can avoid, and a
handful are genuinely ambiguous and 5% carry the wrong label (as real triage data does), so no model
is perfect. Run by hand:
    python templates/tools/make_support_tickets.py
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

OUT = (
    Path(__file__).resolve().parents[1]
    / "base" / "files" / "data" / "sample"
    / "{% if task_type == 'text_classification' %}support_tickets.csv{% endif %}"
)
N_TICKETS = 520
SEED = 7
LABEL_NOISE = 0.05

ITEMS = ["order", "parcel", "package", "delivery", "shipment"]
PLANS = ["Pro plan", "family plan", "annual plan", "basic plan", "team plan", "premium subscription"]
DEVICES = ["iPhone", "Android phone", "laptop", "Windows PC", "Mac", "tablet", "smart TV"]
AMOUNTS = ["$9.99", "$19", "$49.00", "$120", "$12.50", "$250", "$75", "$3.99"]
DAYS = ["Monday", "Tuesday", "yesterday", "last week", "three days ago", "on the 14th", "this morning"]
CARRIERS = ["the courier", "UPS", "DHL", "the post office", "FedEx", "the local carrier"]

CORE = {
    "billing": [
        "I was charged twice for my {plan} {day}.",
        "Why is there a charge of {amount} on my card that I do not recognise?",
        "Please refund the {amount} you took after I cancelled.",
        "My invoice shows the wrong amount, it should be {amount}.",
        "The discount code was not applied and I paid full price.",
        "Can I get a copy of the invoice for {day} for my expenses?",
        "You billed me for the {plan} but I downgraded last month.",
        "My payment failed but the bank says the money left my account.",
        "How do I change the credit card used for billing?",
        "I was promised a prorated credit that never showed up on the bill.",
        "The VAT on my receipt is calculated wrong.",
        "Please stop the automatic renewal charge, I want a refund of {amount}.",
        "I see a pending charge of {amount} that doubled after checkout.",
        "Your pricing page says {amount} but I was billed more.",
        "I need the tax invoice with our company name on it.",
        "The refund you approved {day} still has not reached my card.",
        "Paid with PayPal and got charged again by card.",
        "Is there a fee for paying the annual bill in instalments?",
        "My bank statement shows a subscription fee after my trial ended.",
        "I would like to dispute this overcharge before my bank does.",
        "Can you explain the extra {amount} line called service fee on my statement?",
        "Billing took money from the wrong card even though I updated it.",
    ],
    "technical": [
        "The app crashes every time I open it on my {device}.",
        "I get an error 500 when I try to upload a file.",
        "The page keeps loading forever and nothing appears.",
        "Since the last update the sync between my {device} and the web app is broken.",
        "Notifications stopped working on my {device} {day}.",
        "The export to CSV produces an empty file.",
        "The search returns no results even for exact names.",
        "Video calls freeze after about a minute on my {device}.",
        "The app is extremely slow and uses all the battery on my {device}.",
        "I keep getting a timeout error when saving my work.",
        "Buttons on the settings screen do nothing when I tap them.",
        "The integration with our calendar stopped syncing events.",
        "After installing version 4.2 the app will not start on my {device}.",
        "Images are not displayed, I only see broken icons.",
        "The API returns error 429 even though we send few requests.",
        "Dark mode makes the text unreadable on my {device}.",
        "Offline mode loses my changes when the connection comes back.",
        "The desktop client shows a blank white window on my {device}.",
        "Uploading photos fails with a network error although my wifi works.",
        "The dashboard charts do not render in Firefox.",
        "Printing a report cuts off the last column.",
        "The bug where the editor deletes text is back since {day}.",
    ],
    "account": [
        "I cannot log in, it says my password is incorrect.",
        "Please help me reset my password, the reset email never arrives.",
        "How do I change the email address on my profile?",
        "My account was locked after too many login attempts.",
        "I want to delete my account and all my personal data.",
        "Two-factor authentication codes from my {device} are rejected.",
        "Someone else logged into my account from another country {day}.",
        "How can I add a second user to my {plan}?",
        "I need to change my username, it has a typo.",
        "The verification link in the sign-up email has expired.",
        "I lost access to my old phone number used for verification.",
        "Please merge my two accounts into one.",
        "How do I transfer ownership of the team workspace to a colleague?",
        "I never created an account but I get emails saying I signed up.",
        "My profile picture and name keep reverting to the old ones.",
        "I was logged out on every device and cannot sign back in.",
        "How do I turn off the marketing emails in my profile settings?",
        "Single sign-on with our company login stopped letting me in.",
        "I forgot which email I used to register.",
        "Can you unlock my account, I am the admin of our team?",
        "I want to download a copy of my personal data.",
        "My colleague left the company, how do I remove his access?",
    ],
    "shipping": [
        "My {item} has not arrived yet, it was due {day}.",
        "The tracking number says delivered but I never received the {item}.",
        "Can I change the delivery address for my {item}?",
        "The {item} arrived damaged, the box was crushed.",
        "{carrier} says the address is wrong and sent the {item} back.",
        "How long does international shipping take to Canada?",
        "I received the wrong item in my {item}.",
        "Part of my {item} is missing, only one of two boxes came.",
        "Tracking has not updated for a week, where is my {item}?",
        "Can I pick up the {item} at a store instead of home delivery?",
        "The courier left the {item} outside in the rain.",
        "Do you ship to post office boxes?",
        "My {item} is stuck in customs, what should I do?",
        "I paid for next day delivery but the {item} took five days.",
        "{carrier} tried to deliver while I was home and left a note.",
        "Please send a replacement, the glass in my {item} was broken.",
        "The {item} was delivered to my neighbour by mistake.",
        "Can you combine my two orders into one shipment?",
        "How do I return the item and get a shipping label?",
        "The estimated delivery date keeps moving later.",
        "My {item} shows as lost in transit by {carrier}.",
        "I need the {item} before Friday, can you expedite it?",
    ],
}

# Sentences that add words typical of another class, without changing the ticket's own class.
CROSS = {
    "billing": [
        "I logged into my account to check and the charge is still there.",
        "Your app showed an error during checkout, yet I was charged.",
        "This is about my last order, not the delivery.",
    ],
    "technical": [
        "I am on the {plan} so this should work.",
        "My account settings look fine otherwise.",
        "It happens when I try to track my order in the app.",
        "I have already paid for the {plan} so please fix it.",
    ],
    "account": [
        "I need to get in to download my invoice.",
        "The app just shows an error when I try.",
        "I want to check where my order is but cannot get in.",
    ],
    "shipping": [
        "I already paid {amount} for express shipping.",
        "The app shows no tracking information.",
        "I checked my account and the order status says shipped.",
        "I would like a refund of the delivery fee.",
    ],
}

# Tickets that sit between two classes; labelled by the main request.
AMBIGUOUS = [
    ("billing", "I was charged {amount} for delivery of a {item} that never arrived, I want my money back."),
    ("shipping", "The {item} was charged and shipped to my old address, please redirect it."),
    ("account", "I cannot log in to see my invoice and my card was charged again."),
    ("technical", "The checkout page crashed and now I do not know if my payment went through."),
    ("billing", "After I deleted my account you still charged my card {amount}."),
    ("shipping", "The app says my {item} is delivered but the tracking page shows an error."),
    ("technical", "I cannot log in because the login page shows error 500."),
    ("account", "Please close my account and cancel the subscription renewal."),
]

OPENERS = [
    "", "", "", "Hi,", "Hello,", "Hi team,", "Good morning,", "Hey,", "Dear support,",
    "Quick question:", "Urgent:", "Hello there,",
]
CLOSERS = [
    "", "", "", "", "Thanks.", "Thank you!", "Please help.", "Thanks in advance.",
    "This is the second time I write.", "Please reply soon.", "Regards.", "Very frustrating.",
]


def _fill(text: str, rng: random.Random) -> str:
    return text.format(
        item=rng.choice(ITEMS), plan=rng.choice(PLANS), device=rng.choice(DEVICES),
        amount=rng.choice(AMOUNTS), day=rng.choice(DAYS), carrier=rng.choice(CARRIERS),
    )


def _ticket(label: str, rng: random.Random) -> str:
    parts = [rng.choice(OPENERS), _fill(rng.choice(CORE[label]), rng)]
    if rng.random() < 0.3:
        parts.append(_fill(rng.choice(CORE[label]), rng))
    if rng.random() < 0.4:
        parts.append(_fill(rng.choice(CROSS[label]), rng))
    parts.append(rng.choice(CLOSERS))
    text = " ".join(p for p in parts if p)
    return text[0].upper() + text[1:]


def main() -> None:
    rng = random.Random(SEED)
    weights = {"billing": 0.3, "technical": 0.3, "account": 0.22, "shipping": 0.18}
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(rows) < N_TICKETS:
        if rng.random() < 0.08:
            label, template = rng.choice(AMBIGUOUS)
            text = " ".join(p for p in (rng.choice(OPENERS), _fill(template, rng)) if p)
        else:
            label = rng.choices(list(weights), weights=list(weights.values()))[0]
            text = _ticket(label, rng)
        if text in seen:
            continue
        if rng.random() < LABEL_NOISE:  # routed to the wrong queue, as real triage data sometimes is
            label = rng.choice([other for other in CORE if other != label])
        seen.add(text)
        rows.append((text, label))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "label"])
        for i, (text, label) in enumerate(rows):
            writer.writerow([f"t{i:05d}", text, label])
    print(f"{OUT.name}: {len(rows)} tickets, {OUT.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
