"""Sign in through the real login page in headless Chromium."""

import pytest


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_user_signs_in_through_the_login_page(page, live_server, desk_user, password, screenshot):
    page.goto(f"{live_server.url}/accounts/profile/")
    assert "/accounts/login/" in page.url
    screenshot(page, "login")
    page.get_by_label("Username").fill("desk")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/accounts/profile/")
    assert page.get_by_role("heading", name="Your profile").is_visible()
    assert "Service desk (tier 1)" in page.content()
    screenshot(page, "profile")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_wrong_password_shows_error_and_keeps_username(page, live_server, desk_user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("desk")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").first.is_visible()
    assert page.get_by_label("Username").input_value() == "desk"
