"""A labelled retrieval set: documents of an imaginary company, and questions with the passage that answers each.

Questions are worded as people ask them, not copied from the passages: they share some words with their answer
(a name, a key term) and paraphrase the rest, so a lexical search has to rank, not just match. Each answer is
named by a phrase that occurs in exactly one section of one document.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    filename: str
    answer_phrase: str


DOCUMENTS: dict[str, str] = {
    "engineering-handbook.md": """# Engineering handbook

## Deployments
Production deployments happen on Fridays after the weekly release review. Nobody deploys during public holidays
or after 4 pm. A release needs two approvals and a green pipeline before the release manager presses the button.

## Code review
Every change is reviewed by at least one engineer from another team. Reviewers answer within one working day;
large changes are split into pieces under four hundred lines so that a review stays thorough.

## On-call
Engineers join the on-call rotation after three months. A shift lasts one week, from Monday 9 am to the next
Monday 9 am, and the on-call engineer gets a day off after a night with a page.

## Incidents
An incident is declared by anyone who sees customers affected. The incident commander opens a channel, writes
a timeline, and a blameless postmortem is published within five working days.
""",
    "people-policies.md": """# People policies

## Holidays
Full-time employees have twenty-eight days of paid leave a year, plus public holidays. Unused leave carries over
up to five days into the next year, and must be taken before the end of March.

## Parental leave
Parents get sixteen weeks of fully paid parental leave, whoever gave birth, and may take it in up to three
blocks within the child's first two years.

## Remote work
Staff may work from home up to three days a week. Working abroad is allowed for up to thirty days a year with
the manager's approval, because of tax rules in other countries.

## Performance reviews
Reviews happen twice a year, in April and October. Each review covers goals, feedback from peers and a growth
plan; salary changes are decided only at the October review.
""",
    "expenses.md": """# Expense policy

## Travel
Train travel is preferred for trips under five hours. Flights are booked in economy class through the travel
desk, and hotels may cost up to 180 euros a night in capital cities.

## Meals
Meals while travelling are covered up to 45 euros a day. Alcohol is never refunded, and client dinners need the
approval of a director beforehand.

## Refunds
Claims are filed in the expenses tool with a photo of each receipt. Approved claims are refunded within ten
working days, with the next salary payment at the latest.

## Equipment
Each employee may spend up to 500 euros every two years on home office equipment such as a chair, a desk or
a monitor. Laptops are provided by IT and are not bought with this budget.
""",
    "security.md": """# Security guidelines

## Passwords
Passwords are stored only in the company password manager. Each password has at least sixteen characters and
is never reused; two-factor authentication is mandatory for every work account.

## Laptops
Laptop disks are encrypted and screens lock after five minutes. A lost or stolen laptop is reported to the
security team within one hour so that it can be wiped remotely.

## Data classification
Customer data is confidential: it never leaves the production network, and exports need a ticket approved by
the data protection officer. Public marketing material is the only unrestricted class.

## Phishing
Suspicious emails are reported with the phishing button rather than deleted. Security runs a simulated
phishing campaign every quarter and offers training to anyone who clicks.
""",
    "product-faq.md": """# Product FAQ

## Pricing
The starter plan costs 12 euros per user per month; the business plan costs 29 euros and adds single sign-on
and audit logs. Yearly billing gives two months free.

## Data export
Customers export their data at any time as CSV or JSON from the settings page. Exports of more than one
million rows are prepared in the background and emailed as a download link.

## Uptime
The service level agreement promises 99.9 percent monthly availability. When it is missed, business customers
receive a credit of ten percent of that month's invoice.

## Integrations
The product integrates with Slack, Microsoft Teams and Google Drive. A public REST API with webhooks lets
customers build their own integrations; its rate limit is 600 requests per minute.
""",
}

QUESTIONS: tuple[Question, ...] = (
    Question(
        "Which day of the week do we ship releases to production?", "engineering-handbook.md", "happen on Fridays"
    ),
    Question("How many approvals does a release need?", "engineering-handbook.md", "needs two approvals"),
    Question(
        "How quickly should reviewers respond to a code review?", "engineering-handbook.md", "within one working day"
    ),
    Question("When can a new engineer join the on-call rotation?", "engineering-handbook.md", "after three months"),
    Question("Do I get time off after being paged at night on call?", "engineering-handbook.md", "gets a day off"),
    Question(
        "Who writes the postmortem after an incident, and when is it published?",
        "engineering-handbook.md",
        "blameless postmortem",
    ),
    Question("How many days of paid holidays do employees get?", "people-policies.md", "twenty-eight days"),
    Question("Can unused leave be carried over to next year?", "people-policies.md", "carries over"),
    Question("How long is parental leave for new parents?", "people-policies.md", "sixteen weeks"),
    Question("How many days a week may I work from home?", "people-policies.md", "three days a week"),
    Question("Can I work abroad for a while?", "people-policies.md", "Working abroad is allowed"),
    Question(
        "When are salary changes decided in performance reviews?", "people-policies.md", "salary changes are decided"
    ),
    Question("What is the hotel budget per night when travelling?", "expenses.md", "180 euros a night"),
    Question("Should I take the train or fly for a short trip?", "expenses.md", "Train travel is preferred"),
    Question("How much can I spend on meals per day while travelling?", "expenses.md", "45 euros a day"),
    Question("How long until my expense claim is refunded?", "expenses.md", "refunded within ten"),
    Question(
        "What is the budget for home office equipment like a desk chair?", "expenses.md", "500 euros every two years"
    ),
    Question("How long must passwords be, and where are they stored?", "security.md", "sixteen characters"),
    Question("What should I do if my laptop is stolen?", "security.md", "lost or stolen laptop"),
    Question("May customer data be exported out of production?", "security.md", "data protection officer"),
    Question("How do I report a phishing email?", "security.md", "phishing button"),
    Question("How much does the business plan cost per user?", "product-faq.md", "29 euros"),
    Question("Can customers export their data as CSV?", "product-faq.md", "as CSV or JSON"),
    Question(
        "What uptime does the SLA promise, and what credit applies when it is missed?", "product-faq.md", "99.9 percent"
    ),
    Question("What is the API rate limit for integrations?", "product-faq.md", "600 requests per minute"),
)


_TEAMS = ("billing", "search", "mobile", "data", "identity", "payments", "growth", "platform", "design", "support")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday")
_TOPICS = (
    (
        "Release notes",
        "The {team} team publishes release notes every {day} for internal tools. Notes list fixed bugs, new flags"
        " and the owner of each change; product managers read them before the customer newsletter.",
    ),
    (
        "Team rituals",
        "The {team} team meets on {day} mornings for planning. Retrospectives happen every second week, and the"
        " team rotates the facilitator so that everyone leads a meeting once a quarter.",
    ),
    (
        "Budget",
        "The {team} team has a yearly budget for conferences and books. Requests above 300 euros go to the head"
        " of department; receipts are kept in the shared folder for the finance review in {day} meetings.",
    ),
    (
        "Onboarding",
        "New members of the {team} team get a buddy for their first month. The buddy reviews their first change,"
        " introduces them to the on-call tools, and checks in every {day} afternoon.",
    ),
    (
        "Office hours",
        "The {team} team holds office hours on {day} afternoons. Anyone may bring questions about the team's"
        " services, data models or roadmap; answers that matter to many are added to the wiki.",
    ),
)


def distractor_documents() -> dict[str, str]:
    """Team pages that share the set's vocabulary (release, team, review, budget, on-call) and answer none of
    its questions: fifty sections in ten documents, so a search ranks among about seventy chunks."""
    documents = {}
    for number, team in enumerate(_TEAMS):
        sections = [f"# The {team} team"]
        for offset, (title, body) in enumerate(_TOPICS):
            day = _DAYS[(number + offset) % len(_DAYS)]
            sections.append(f"## {title}\n{body.format(team=team, day=day)}")
        documents[f"team-{team}.md"] = "\n\n".join(sections)
    return documents
