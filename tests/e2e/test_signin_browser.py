"""Signing in with a password in the browser, and out again."""

import uuid

from e2e.server import Server
from playwright.sync_api import Browser, Page, expect


def test_a_user_signs_in_with_a_password_and_out_again(
    page: Page, browser: Browser, accord_server: Server
) -> None:
    # The local user is the administrator: they add a user with a password.
    email = f"pat-{uuid.uuid4().hex[:6]}@example.test"
    made = page.request.post(
        "/api/v1/users",
        data={"email": email, "displayName": "Pat", "password": "a long password"},
    )
    assert made.status == 201, made.text()

    fresh = browser.new_context(base_url=accord_server.base_url)
    try:
        visitor = fresh.new_page()
        visitor.goto("/")
        visitor.get_by_label("Email").fill(email)
        visitor.get_by_label("Password").fill("not the password")
        visitor.get_by_role("button", name="Sign in").click()
        expect(visitor.get_by_role("alert")).to_contain_text("wrong email or password")
        visitor.get_by_label("Password").fill("a long password")
        visitor.get_by_role("button", name="Sign in").click()
        expect(visitor.get_by_role("navigation", name="Main")).to_be_visible()
        expect(visitor.get_by_text("Pat", exact=True)).to_be_visible()
        # A write from the app's own page carries its Origin and passes the check.
        status = visitor.evaluate(
            """fetch("/api/v1/projects", {method: "POST",
                headers: {"Content-Type": "application/json"},
                body: JSON.stringify({name: "from the page"})}).then((r) => r.status)"""
        )
        assert status == 201
        visitor.get_by_role("button", name="Sign out").click()
        expect(visitor.get_by_role("button", name="Sign in")).to_be_visible()
        assert visitor.request.get("/api/v1/me").status == 401
    finally:
        fresh.close()


def test_settings_make_and_revoke_a_scoped_token_and_add_a_user(
    page: Page, accord_server: Server
) -> None:
    page.goto("/settings")
    form = page.get_by_role("form", name="New API token")
    form.get_by_label("Name").fill("dashboard")
    form.get_by_label("Scope").select_option("read")
    form.get_by_role("button", name="Create token").click()
    secret = page.locator("code.secret").inner_text()
    assert secret.startswith("acc_")
    row = page.get_by_role("table", name="API tokens").get_by_role("row", name="dashboard")
    expect(row).to_contain_text("read")

    api = page.request
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/v1/me", headers=bearer).status == 200
    assert api.post("/api/v1/projects", headers=bearer, data={"name": "x"}).status == 403
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke").click()
    expect(row).to_have_count(0)
    assert api.get("/api/v1/me", headers=bearer).status == 401

    email = f"lee-{uuid.uuid4().hex[:6]}@example.test"
    users = page.get_by_role("form", name="New user")
    users.get_by_label("Email").fill(email)
    users.get_by_label("Name").fill("Lee")
    users.get_by_label("Password (10+ characters)").fill("a long password")
    users.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("table", name="Users").get_by_role("row", name=email)).to_contain_text(
        "active"
    )
