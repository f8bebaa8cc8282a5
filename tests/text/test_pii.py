"""PII redaction: emails, public IPv4/IPv6 replaced; private, loopback and non-addresses kept."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import ConfigError, load_config
from pipeline.text.pii import EMAIL_PLACEHOLDERS, IPV4_PLACEHOLDERS, IPV6_PLACEHOLDERS, PiiConfig, redact, redact_batch

CFG = PiiConfig()


def test_emails_replaced_and_counted():
    r = redact("Write to John.Doe@Example.COM or help+list@mail.python.org today.", CFG)
    assert r.emails == 2 and "@Example.COM" not in r.text and "mail.python.org" not in r.text
    assert all(w in EMAIL_PLACEHOLDERS for w in r.text.split() if "@" in w)
    assert r.text.endswith(" today.")


@pytest.mark.parametrize("ip", ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "2606:4700:4700::1111"])
def test_public_ips_replaced(ip):
    r = redact(f"server {ip} answered", CFG)
    assert r.ips == 1 and ip not in r.text
    assert r.text.split()[1] in IPV4_PLACEHOLDERS + IPV6_PLACEHOLDERS


@pytest.mark.parametrize("ip", ["10.0.0.1", "192.168.1.20", "127.0.0.1", "172.16.5.4", "169.254.1.1", "fe80::1", "::1", "fd00::5"])
def test_private_and_loopback_ips_stay(ip):
    r = redact(f"host {ip} is local", CFG)
    assert (r.text, r.ips) == (f"host {ip} is local", 0)


@pytest.mark.parametrize("text", ["at 12:30:45 today", "std::vector<int>", "version 1.2.3.4.5", "3.11.2 release", "999.1.1.1"])
def test_things_that_are_not_addresses_stay(text):
    assert redact(text, CFG).text == text


def test_port_suffix_and_placeholders_are_deterministic():
    a = redact("dns 8.8.4.4:53 and 8.8.8.8", CFG)
    assert a.ips == 2 and a.text.endswith(a.text.split()[-1]) and ":53 and" in a.text
    assert redact("dns 8.8.4.4:53 and 8.8.8.8", CFG) == a  # same input, same output, any batch
    assert [r.text for r in redact_batch(["a 8.8.8.8", "b 10.0.0.1"], CFG)] == [redact("a 8.8.8.8", CFG).text, "b 10.0.0.1"]


def test_switches_and_scores():
    text = "x@example.net 8.8.8.8 10.1.1.1"
    assert redact(text, PiiConfig(emails=False)).text.startswith("x@example.net")
    assert redact(text, PiiConfig(ips=False)).text.endswith("8.8.8.8 10.1.1.1")
    assert redact(text, PiiConfig(only_public_ips=False)).ips == 2
    assert redact(text, CFG).scores("extract.pii.v1") == {"extract.pii.v1:emails": 1.0, "extract.pii.v1:ips": 1.0}
    with pytest.raises(ConfigError, match="pii.emails: expected true or false"):
        load_config(text="pii:\n  emails: yes please\n")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789abcdefABCDEF.:[] x\n/-", max_size=60))
def test_every_address_the_ip_pattern_finds_carries_the_hint(text):
    """The hint only lets redaction skip texts: whatever _IP finds, _IP_HINT finds too."""
    from pipeline.text.pii import _IP, _IP_HINT

    if _IP.search(text):
        assert _IP_HINT.search(text)
