"""Attachments in a real Chromium: paste a screenshot into the reply, drop a file on it; the
timeline previews the image."""

import base64
import struct
import zlib

import pytest

from incidents.models import Comment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def png(width=160, height=90, rgb=(37, 99, 235)) -> bytes:
    """A real PNG of one colour with a white band."""
    rows = b""
    for y in range(height):
        colour = bytes((255, 255, 255)) if height // 3 < y < height // 2 else bytes(rgb)
        rows += b"\x00" + colour * width

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_paste_a_screenshot_and_drop_a_file_then_see_the_preview(
    page, live_server, login, screenshot, org, contact, log_incident
):
    incident = log_incident(customer=org.customer, requester=contact)
    login(page, org.desk)
    page.goto(f"{live_server.url}/incidents/{incident.key}/")
    page.get_by_label("Message").fill("Screenshot of the error and the gateway log.")
    page.get_by_label("Internal work note").check()
    data = base64.b64encode(png()).decode()
    # Paste: a clipboard event carrying an image file, as a screenshot tool puts it.
    page.locator("#id_comment-body").evaluate(
        """(el, b64) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], "image.png", {type: "image/png"}));
            const paste = {clipboardData: dt, bubbles: true, cancelable: true};
            el.dispatchEvent(new ClipboardEvent("paste", paste));
        }""",
        data,
    )
    # Drop: a file dragged onto the form.
    page.locator("#comment").evaluate(
        """(form) => {
            const dt = new DataTransfer();
            dt.items.add(new File(["502 at 09:12\\n"], "gateway.log", {type: "text/plain"}));
            form.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
        }"""
    )
    assert page.locator(".chosen-files li").count() == 2
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state("networkidle")
    comment = Comment.objects.get(body="Screenshot of the error and the gateway log.")
    names = sorted(a.name for a in comment.attachments.all())
    assert names[0] == "gateway.log" and names[1].startswith("pasted-") and names[1].endswith(".png")
    thumb = page.locator("img.attachment-thumb")
    thumb.wait_for()
    assert thumb.evaluate("img => img.complete && img.naturalWidth") == 160
    screenshot(page, "channel-attachment-preview")
