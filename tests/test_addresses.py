"""The address rules of portal/core/addresses: every written form of an IPv4 address is read as resolvers
read it, and an IPv6 address is public only with every IPv4 address it embeds."""
import ipaddress

import pytest

from portal.core import addresses


@pytest.mark.parametrize("host, expected", [
    ("127.0.0.1", "127.0.0.1"),
    ("2130706433", "127.0.0.1"),
    ("0x7f000001", "127.0.0.1"),
    ("0X7F000001", "127.0.0.1"),
    ("127.1", "127.0.0.1"),
    ("127.0.1", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"),
    ("0x7f.0.0.1", "127.0.0.1"),
    ("10.0.0.1.", "10.0.0.1"),
    ("167772161", "10.0.0.1"),
    ("[::1]", "::1"),
    ("[64:FF9B::7F00:1]", "64:ff9b::7f00:1"),
])
def test_every_written_form_of_an_address_is_read_as_resolvers_read_it(host, expected):
    assert addresses.host_address(host) == ipaddress.ip_address(expected)


@pytest.mark.parametrize("host", ["example.com", "hooks.example.com.", "localhost", "1.example", "0x7f.example"])
def test_a_name_is_not_an_address(host):
    assert addresses.host_address(host) is None


@pytest.mark.parametrize("host", ["1.2.3.999", "08.0.0.1", "1.2.3.4.5", "0xg1.1", "4294967296", "256.1", "1..2.3"])
def test_a_host_that_ends_in_a_number_but_is_no_address_is_refused(host):
    with pytest.raises(addresses.NotAnAddress):
        addresses.host_address(host)


@pytest.mark.parametrize("host, stored", [
    ("2130706433", "127.0.0.1"),
    ("0x08080808", "8.8.8.8"),
    ("[2606:4700:0000::1111]", "[2606:4700::1111]"),
    ("Hooks.Example.COM.", "hooks.example.com"),
])
def test_hosts_are_stored_in_one_canonical_form(host, stored):
    assert addresses.normalised_host(host) == stored


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "192.168.1.1", "172.16.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "::1", "fe80::1", "fc00::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1",          # IPv4-mapped
    "::127.0.0.1", "::10.0.0.1",                    # IPv4-compatible (deprecated)
    "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b::c0a8:101",  # NAT64 of loopback and private
    "64:ff9b:1::808:808",                           # local-use NAT64: never public
    "2002:7f00:1::1", "2002:a00:1::1", "2002:c0a8:101::",      # 6to4 of loopback and private
    "2001:0:4136:e378:8000:63bf:80ff:fffe",         # Teredo of a private client (127.0.0.1 obfuscated)
    "2001:0:a00:1::1",                              # Teredo with a private server
])
def test_local_private_and_embedding_addresses_are_not_public(address):
    assert not addresses.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1"])
def test_public_addresses_and_translations_of_public_ipv4_are_public(address):
    assert addresses.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::"])
def test_loopback_in_every_form_is_loopback(address):
    assert addresses.is_loopback(ipaddress.ip_address(address))
