"""Real mail servers for the channel's tests: an aiosmtpd sink in this process (outbound)
and a throwaway Dovecot IMAP server (inbound)."""

import email
import email.policy
import socket
import threading
import time

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Collect:
    def __init__(self, sink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.sink.lock:
            self.sink.messages.append(message)
            self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


class SmtpSink:
    """Records every message it receives, parsed from the real MIME bytes."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(_Collect(self), hostname="127.0.0.1", port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 30) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.1)
        raise AssertionError(f"the sink got {len(self.messages)} mails, expected {count}")

    def clear(self):
        with self.lock:
            self.messages.clear()
            self.envelopes.clear()


DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = dovenull
default_internal_user = dovecot
mail_location = maildir:{dir}/mail/%u/Maildir
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={dir}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


class Dovecot:
    """Debian's dovecot-imapd on a spare loopback port with a throwaway configuration: one
    passwd-file user whose Maildir lives in a temporary directory."""

    user = "support@tandem.example"
    password = "imap-test-pw"  # noqa: S105

    def __init__(self, directory):
        import pwd

        self.dir = str(directory)
        self.port = free_port()
        owner = pwd.getpwnam("dovecot")
        self.uid, self.gid = owner.pw_uid, owner.pw_gid

    def start(self):
        import os
        import subprocess

        for sub in ("run", "state", "mail"):
            os.makedirs(f"{self.dir}/{sub}", exist_ok=True)
        os.chmod(self.dir, 0o755)  # noqa: S103 - dovecot's own users read the config and passwd
        os.chown(f"{self.dir}/mail", self.uid, self.gid)
        with open(f"{self.dir}/passwd", "w") as f:
            f.write(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        conf = f"{self.dir}/dovecot.conf"
        with open(conf, "w") as f:
            f.write(DOVECOT_CONF.format(dir=self.dir, port=self.port, uid=self.uid, gid=self.gid))
        self.conf = conf
        subprocess.run(["/usr/sbin/dovecot", "-c", conf], check=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not listen; see {self.dir}/dovecot.log")

    def stop(self):
        import subprocess

        subprocess.run(["/usr/sbin/dovecot", "-c", self.conf, "stop"], check=False)

    @property
    def url(self) -> str:
        from urllib.parse import quote

        return f"imap://{quote(self.user)}:{self.password}@127.0.0.1:{self.port}"

    def client(self):
        from imap_tools import MailBoxUnencrypted

        return MailBoxUnencrypted("127.0.0.1", port=self.port).login(self.user, self.password)

    def append(self, *messages: bytes):
        """Put mail in the INBOX with IMAP APPEND, as a mail server's delivery would."""
        with self.client() as box:
            for raw in messages:
                box.append(raw, "INBOX")

    def unseen(self) -> int:
        from imap_tools import AND

        with self.client() as box:
            return len(box.uids(AND(seen=False)))
