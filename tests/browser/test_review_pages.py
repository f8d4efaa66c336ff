"""Contributors and reviewers in a real Chromium: signing in and out from the account area, a
custody claim submitted through the generated form (with suggestions as you type), found in the
reviewer's queue beside its quote and approved there with one request (htmx), a form post
without its CSRF token refused; every page axe-clean and usable at 390 px."""

from __future__ import annotations

import httpx

from tests.browser.conftest import PHONE, axe_violations, wide_content

CONTRIBUTOR, REVIEWER = "demo-contributor-token", "demo-reviewer-token"
HOSTILE_QUOTE = "<script>alert(1)</script> held in the Butyrka <b>prison</b>"


def sign_in(page, site: str, token: str, goto: str = "/") -> None:
    """Sign in through the form, as a person would."""
    page.goto(f"{site}/sign-in?next={goto}")
    page.get_by_label("Your token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site}{goto}*")


def ids(site: str) -> dict[str, str]:
    """Monclús (Vicente), Butyrka and the source the demo cites for him, from the API."""
    person = next(p for p in httpx.get(site + "/persons", params={"q": "Vicente Monclús"}).json()["items"]
                  if p["label"].startswith("Vicente"))["id"]
    place = httpx.get(site + "/places", params={"q": "Butyrka"}).json()["items"][0]["id"]
    cited = httpx.get(site + "/claims", params={"person": person, "limit": 1}).json()["items"][0]
    return {"person": person, "place": place, "source": cited["claim"]["citation"]["source"]}


def clean(page) -> None:
    assert axe_violations(page) == []
    page.set_viewport_size(PHONE)
    assert wide_content(page) == 0
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_account_area_says_sign_in_then_sign_out_and_the_name(site: str, page, shot) -> None:
    page.goto(site + "/")
    assert page.get_by_role("link", name="Sign in").is_visible()
    assert page.get_by_role("button", name="Sign out").count() == 0
    page.get_by_role("link", name="Sign in").click()
    assert page.locator("h1").inner_text() == "Sign in"
    shot("sign-in")
    clean(page)
    page.get_by_label("Your token").fill("sta_wrong")
    page.get_by_role("button", name="Sign in").click()
    assert "not accepted" in page.get_by_role("alert").inner_text()
    shot("sign-in-refused")
    sign_in(page, site, REVIEWER)
    account = page.locator("header .account")
    assert "Demo Reviewer" in account.inner_text()
    assert account.get_by_role("button", name="Sign out").is_visible()
    assert account.get_by_role("link", name="Sign in").count() == 0
    shot("home-signed-in")
    clean(page)
    page.set_viewport_size(PHONE)
    shot("home-signed-in-phone")
    account.get_by_role("button", name="Sign out").click()
    page.wait_for_url(site + "/")
    assert page.get_by_role("link", name="Sign in").is_visible()
    assert "Demo Reviewer" not in page.locator("header").inner_text()


def test_a_contributor_submits_a_custody_claim_and_a_reviewer_approves_it(site: str, browser,
                                                                          page, shot) -> None:
    known = ids(site)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, site, CONTRIBUTOR, "/claims/new")
    page.get_by_label("Kind of claim").select_option("custody")
    page.get_by_role("button", name="Choose").click()
    page.wait_for_url("**/claims/new?kind=custody")
    assert page.locator("h2#form-h").inner_text() == "A custody claim"
    # the date help the API gives, beside the date fields
    assert "EDTF" in page.locator("#f-start-help").inner_text()
    # suggestions as you type: the search behind GET /persons?q= fills the field's datalist
    page.locator("#f-person").press_sequentially("Monclús", delay=30)
    page.wait_for_function(
        "() => document.querySelectorAll('#f-person-list option').length > 0")
    values = page.locator("#f-person-list option").evaluate_all("os => os.map(o => o.value)")
    assert known["person"] in values
    page.locator("#f-person").fill(known["person"])
    page.get_by_label("Custody (required)").select_option("prison")
    page.locator("#f-place").fill(known["place"])
    page.locator("#f-start").fill("not a date")
    page.locator("#f-citation-source").fill(known["source"])
    page.locator("#f-citation-locator").fill("para. 9")
    page.locator("#f-citation-quote").fill(HOSTILE_QUOTE)
    page.get_by_role("button", name="Submit the claim").click()
    # the 422's message beside its field, what was typed kept
    assert "EDTF" in page.locator("#f-start-error").inner_text()
    assert page.locator("#f-citation-quote").input_value() == HOSTILE_QUOTE
    shot("claim-form-error")
    page.locator("#f-start").fill("1940-01-25")
    page.get_by_role("button", name="Submit the claim").click()
    page.wait_for_url("**submitted=C-*")
    claim_id = page.url.rsplit("submitted=", 1)[1]
    assert "pending" in page.get_by_role("status").inner_text()
    assert page.locator("section[aria-labelledby=mine-h]").get_by_role("link", name=claim_id).is_visible()
    shot("claim-submitted")
    clean(page)
    page.set_viewport_size(PHONE)
    shot("claim-form-phone")

    reviewer = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    reviewer.set_default_timeout(10_000)
    queue = reviewer.new_page()
    queue.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        sign_in(queue, site, REVIEWER, "/review")
        row = queue.locator(f"#claim-{claim_id}")
        assert row.is_visible()
        # beside its quote, as written (escaped: the contributor's markup is text)
        assert row.locator("blockquote").inner_text() == HOSTILE_QUOTE
        assert row.locator("blockquote script").count() == 0
        assert "Biography now" in row.inner_text()
        # oldest first: the new claim comes after the demo's waiting claims
        order = queue.locator("section[aria-labelledby=queue-h] article").evaluate_all(
            "as => as.map(a => a.id)")
        assert order[-1] == f"claim-{claim_id}"
        shot("review-queue", queue)
        clean(queue)
        queue.set_viewport_size(PHONE)
        shot("review-queue-phone", queue)
        queue.set_viewport_size({"width": 1280, "height": 900})
        # filtered by kind and person, it is still there
        queue.goto(f"{site}/review?kind=custody&person={known['person']}")
        assert queue.locator(f"#claim-{claim_id}").is_visible()
        assert queue.locator("article.queue-item").evaluate_all(
            "as => as.every(a => a.querySelector('h3').innerText.includes('custody'))")
        row = queue.locator(f"#claim-{claim_id}")
        row.get_by_label(f"Reason to approve {claim_id} (optional)").fill("matches the post")
        with queue.expect_response(f"**/claims/{claim_id}/approve") as answered:
            row.get_by_role("button", name="Approve").click()
        assert answered.value.status == 200
        assert answered.value.headers["content-type"].startswith("text/html")
        # the row swapped in place (no page load): approved
        queue.wait_for_selector(f"#claim-{claim_id} .notice")
        assert queue.url.endswith(f"person={known['person']}")
        assert "approved" in queue.locator(f"#claim-{claim_id} .state").inner_text()
        shot("review-approved-row", queue)
    finally:
        reviewer.close()
    biography = httpx.get(f"{site}/persons/{known['person']}/biography").text
    assert claim_id in biography
    # a reader reloading the person's page finds the approved claim among its claims
    reader = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        person = reader.new_page()
        person.goto(f"{site}/persons/{known['person']}")
        assert person.locator(f"[id='{claim_id}']").count() == 1
        shot("person-after-approval", person)
    finally:
        reader.close()
    assert httpx.get(f"{site}/claims/{claim_id}").json()["status"] == "approved"
    assert dialogs == []


def test_a_form_post_without_the_csrf_token_is_refused(site: str, page, shot) -> None:
    sign_in(page, site, REVIEWER, "/review")
    first = page.locator("section[aria-labelledby=queue-h] article").first
    claim_id = first.get_attribute("id").removeprefix("claim-")
    before = httpx.get(f"{site}/claims/{claim_id}",
                       headers={"Authorization": f"Bearer {REVIEWER}"}).json()
    # a form without its token, as another site's page would post it
    first.locator("form[action$='/approve'] input[name=_csrf_token]").evaluate("e => e.remove()")
    first.locator("form[action$='/approve']").evaluate("f => f.removeAttribute('hx-post')")
    page.evaluate("() => htmx.process(document.body)")
    with page.expect_navigation():
        first.locator("form[action$='/approve']").evaluate("f => f.submit()")
    assert page.locator("h1").inner_text().startswith("Refused")
    assert "CSRF" in page.get_by_role("alert").inner_text()
    shot("csrf-refused")
    after = httpx.get(f"{site}/claims/{claim_id}",
                      headers={"Authorization": f"Bearer {REVIEWER}"}).json()
    assert after["version"] == before["version"] and after["status"] == before["status"]
    clean(page)
    # the same form with its token, posted without JavaScript: a page holding the updated row
    page.goto(site + "/review")
    row = page.locator(f"#claim-{claim_id}")
    form = row.locator("form[action$='/approve']")
    form.evaluate("f => f.removeAttribute('hx-post')")
    page.evaluate("() => htmx.process(document.body)")
    with page.expect_navigation():
        form.evaluate("f => f.submit()")
    assert page.url.endswith(f"/claims/{claim_id}/approve")
    assert "You " in page.get_by_role("status").inner_text()
    assert page.get_by_role("link", name="Back to the review queue").is_visible()
    shot("decided-without-javascript")
    clean(page)


def test_a_contributor_may_not_use_the_queue_and_readers_are_sent_to_sign_in(site: str, page,
                                                                            shot) -> None:
    page.goto(site + "/review")
    assert page.url.startswith(site + "/sign-in?next=/review")
    sign_in(page, site, CONTRIBUTOR, "/review")
    assert "for reviewers" in page.get_by_role("alert").inner_text()
    shot("review-as-contributor")
    clean(page)


def test_a_reader_sees_a_contested_claim_marked_disputed_on_its_page(site: str, page, shot) -> None:
    # a reviewer contests an approved claim through the API: it stays public, marked disputed
    approved = httpx.get(site + "/claims", params={"status": "approved", "kind": "occupation",
                                                   "limit": 1}).json()["items"][0]
    contested = httpx.post(f"{site}/claims/{approved['id']}/contest",
                           json={"reason": "the source says <em>farmer</em>, not this"},
                           headers={"Authorization": "Bearer demo-reviewer-2-token"})
    assert contested.status_code == 200, contested.text
    disputed = httpx.get(f"{site}/claims/{approved['id']}").json()
    assert disputed["status"] == "disputed"
    page.goto(f"{site}/claims/{disputed['id']}")
    assert page.locator("h1").inner_text() == f"Claim {disputed['id']}: {disputed['kind']}"
    state = page.locator("main > p .state")
    assert state.inner_text() == "disputed" and "disputed" in state.get_attribute("class")
    mark = page.locator("p.disputed")
    assert disputed["dispute"]["reason"][:40] in mark.inner_text()
    # readers see the contester's and contributor's account ids, never their names
    text = page.locator("main").inner_text()
    assert disputed["dispute"]["actor"] in text and "Demo Second Reviewer" not in text
    assert "<em>farmer</em>" in mark.inner_text()  # the reason as written: text, not markup
    assert "Demo Contributor" not in text
    assert page.locator("form").count() == 1  # the header's search only: no controls
    assert page.locator("table td", has_text="contest").count() >= 1  # its history
    shot("claim-disputed")
    clean(page)
    page.set_viewport_size(PHONE)
    shot("claim-disputed-phone")
    # the same URL gives a program today's JSON, and the page answers 304 when unchanged
    assert httpx.get(f"{site}/claims/{disputed['id']}").json()["status"] == "disputed"
    first = httpx.get(f"{site}/claims/{disputed['id']}", headers={"Accept": "text/html"})
    again = httpx.get(f"{site}/claims/{disputed['id']}",
                      headers={"Accept": "text/html", "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
