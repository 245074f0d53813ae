"""Linked entities within two hops: transfers, shared devices, IPs and counterparties."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from cases.linked import linked_entities, linked_graph_json
from sentinel.pipeline.orchestrator import transactions_process
from transactions import services
from transactions.models import Account, Customer
from transactions.tests.factories import PartnerBankFactory, transaction_payload

pytestmark = pytest.mark.django_db

_ip = iter(range(1, 250))


def pay(partner, source, target, *, amount="100.00", device=None, ip=None, currency="USD"):
    """An outbound transfer from the partner's account ``source`` (customer C<source>)."""
    number = next(_ip)
    payload = transaction_payload(
        amount=amount,
        currency=currency,
        originator={
            "account_id": source,
            "customer_id": f"C{source}",
            "name": f"Holder {source}",
            "country": "US",
        },
        beneficiary={"account_id": target, "name": f"Holder {target}", "country": "GB"},
        device_id=device or f"dev-{source}-{number}",
        ip_address=ip or f"198.51.100.{number}",
    )
    result = services.transaction_ingest(partner=partner, payload=payload)
    assert result.status == "created", result.errors
    transactions_process(transaction_ids=[result.id])


@pytest.fixture
def network():
    """A→B→C→G transfers; D uses A's phone; E A's IP; A and F both pay outside account X."""
    partner = PartnerBankFactory()
    pay(partner, "A", "B", amount="900.00", device="phone-A", ip="192.0.2.10")
    pay(partner, "A", "B", amount="100.00")
    pay(partner, "A", "X", amount="50.00")
    pay(partner, "B", "C", amount="700.00")
    pay(partner, "C", "G", amount="600.00")
    pay(partner, "G", "H", amount="500.00")
    pay(partner, "D", "Q", device="phone-A")
    pay(partner, "E", "R", ip="192.0.2.10")
    pay(partner, "F", "X", amount="25.00")
    # Someone at another partner with the same ids, phone and IP is never part of the graph.
    other = PartnerBankFactory()
    pay(other, "A", "B", device="phone-A", ip="192.0.2.10")
    pay(other, "Z", "A", device="phone-A", ip="192.0.2.10")
    return partner


def by_id(graph):
    return {node.id: node for node in graph.nodes}


def edges(graph):
    return {(edge.source, edge.target, edge.kind): edge for edge in graph.edges}


def test_two_hops_from_a_customer(network, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        graph = linked_entities(partner=network, customer_external_id="CA")
    nodes = by_id(graph)
    accounts = {node.key: node.hop for node in graph.nodes if node.kind == "account"}
    assert accounts == {"A": 0, "B": 1, "D": 1, "E": 1, "F": 1, "C": 2}
    assert "account:G" not in nodes and "counterparty:G" not in nodes  # three hops away
    assert {n.key for n in graph.nodes if n.kind == "counterparty"} == {"X", "Q", "R"}
    assert nodes["counterparty:X"].hop == 1
    assert nodes["device:phone-A"].hop == 1
    assert nodes["ip:192.0.2.10"].hop == 1
    assert {n.key for n in graph.nodes if n.kind == "customer"} == {
        "CA",
        "CB",
        "CC",
        "CD",
        "CE",
        "CF",
    }
    assert graph.subject_ids == ["account:A", "customer:CA"]
    assert not graph.truncated

    links = edges(graph)
    transfer = links[("account:A", "account:B", "transfer")]
    assert transfer.count == 2 and str(transfer.totals["USD"]) == "1000.0000"
    assert ("account:B", "account:C", "transfer") in links
    assert ("account:A", "device:phone-A", "shared_device") in links
    assert ("account:D", "device:phone-A", "shared_device") in links
    assert ("account:A", "ip:192.0.2.10", "shared_ip") in links
    assert ("account:E", "ip:192.0.2.10", "shared_ip") in links
    assert ("account:A", "counterparty:X", "shared_counterparty") in links
    assert ("account:F", "counterparty:X", "shared_counterparty") in links
    assert ("account:D", "counterparty:Q", "transfer") in links
    assert ("customer:CA", "account:A", "owns") in links
    # The other partner's holder of the same phone and IP is not here.
    assert "account:Z" not in nodes and "customer:CZ" not in nodes
    assert {node.key for node in graph.nodes if node.kind == "device"} == {"phone-A"}


def test_nodes_link_to_their_page_and_risk(network):
    account = Account.objects.get(partner=network, external_id="B")
    account.profile.risk_rating = "high"
    account.profile.save()
    graph = linked_entities(partner=network, account_external_id="A", hops=1)
    nodes = by_id(graph)
    assert nodes["account:B"].url == reverse("admin:transactions_account_change", args=[account.pk])
    customer = Customer.objects.get(partner=network, external_id="CB")
    assert nodes["customer:CB"].url == reverse(
        "admin:transactions_customer_change", args=[customer.pk]
    )
    assert nodes["account:B"].risk_rating == "high"
    assert nodes["customer:CB"].risk_rating == "high"
    assert nodes["account:A"].risk_rating == "low"
    assert nodes["device:phone-A"].url is None
    assert "account:C" not in nodes  # hops=1

    graph = linked_entities(
        partner=network,
        account_external_id="A",
        hops=1,
        url_for=lambda node: f"/cases/?subject={node.key}" if node.kind == "customer" else None,
    )
    assert by_id(graph)["customer:CB"].url == "/cases/?subject=CB"
    assert by_id(graph)["account:B"].url is None


def test_the_graph_is_capped(network):
    graph = linked_entities(partner=network, customer_external_id="CA", limit=5)
    assert graph.truncated
    assert len(graph.nodes) <= 5
    ids = {node.id for node in graph.nodes}
    assert all(edge.source in ids and edge.target in ids for edge in graph.edges)


def test_unknown_subject_is_an_empty_graph(network):
    graph = linked_entities(partner=network, customer_external_id="nobody")
    assert graph.nodes == [] and graph.edges == []


def test_since_limits_the_transactions(network):
    from datetime import UTC, datetime

    graph = linked_entities(
        partner=network, customer_external_id="CA", since=datetime(2100, 1, 1, tzinfo=UTC)
    )
    assert [node.id for node in graph.nodes] == ["account:A", "customer:CA"]


def test_json_for_the_template(network):
    data = linked_graph_json(linked_entities(partner=network, customer_external_id="CA"))
    json.dumps(data)  # plain JSON
    transfer = next(e for e in data["edges"] if e["id"] == "transfer:account:A->account:B")
    assert transfer["label"] == "transfer · 2× · 1,000.00 USD"
    assert transfer["totals"] == {"USD": "1,000.00"}
    subject = next(n for n in data["nodes"] if n["id"] == "account:A")
    assert subject["subject"] is True and subject["url"].startswith("/admin/")
    assert data["truncated"] is False


@pytest.fixture
def graph_html(network, tmp_path, settings):
    """The template fragment in a page of its own, loading the real static files from disk."""
    from django.template.loader import render_to_string

    graph = linked_entities(
        partner=network, customer_external_id="CA", url_for=lambda node: f"#open-{node.key}"
    )
    fragment = render_to_string(
        "cases/_linked_graph.html", {"linked_graph": linked_graph_json(graph)}
    )
    static = (settings.BASE_DIR / "static").as_uri() + "/"
    fragment = fragment.replace(f"/{settings.STATIC_URL}", static).replace(
        settings.STATIC_URL, static
    )
    page = tmp_path / "graph.html"
    # The case page's stylesheet sizes the graph (a class: the CSP refuses style attributes).
    sheet = f"<link rel='stylesheet' href='{static}cases/cases.css'>"
    page.write_text(
        f"<!doctype html><html lang='en'><head>{sheet}</head>"
        f"<body><main>{fragment}</main></body></html>"
    )
    return page, graph


def test_template_lists_every_node_and_edge(graph_html):
    page, graph = graph_html
    html = page.read_text()
    assert 'id="linked-graph"' in html and 'id="linked-graph-canvas"' in html
    assert "cytoscape.min.js" in html and "cases/graph.js" in html
    for node in graph.nodes:
        assert f'href="#open-{node.key}"' in html
    assert html.count("<tr>") == len(graph.nodes) + len(graph.edges) + 2  # + two header rows


@pytest.mark.browser
def test_the_graph_draws_and_a_click_opens_the_node(graph_html, page):
    path, graph = graph_html
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    page.wait_for_selector("#linked-graph-canvas canvas")
    assert page.locator("#linked-graph-canvas").is_visible()
    assert page.evaluate("document.getElementById('linked-graph-canvas').cy.nodes().length") == len(
        graph.nodes
    )
    assert page.evaluate("document.getElementById('linked-graph-canvas').cy.edges().length") == len(
        graph.edges
    )
    page.evaluate("document.getElementById('linked-graph-canvas').cy.$id('account:B').emit('tap')")
    page.wait_for_function("location.hash === '#open-B'")
    assert errors == []
