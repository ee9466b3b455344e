package outbound

import (
	"errors"
	"net/netip"
	"testing"
)

// B5, spec S6: every special-purpose address that is not globally
// reachable is refused, by range and at the edges of each range; globally
// reachable unicast addresses pass.
func TestPublic(t *testing.T) {
	cases := []struct {
		addr   string
		public bool
		why    string
	}{
		{"0.0.0.0", false, "this network"},
		{"0.1.2.3", false, "this network"},
		{"10.0.0.1", false, "private"},
		{"10.255.255.255", false, "private"},
		{"100.64.0.1", false, "shared (CGNAT)"},
		{"100.127.255.255", false, "shared (CGNAT)"},
		{"100.63.255.255", true, "just below shared"},
		{"100.128.0.0", true, "just above shared"},
		{"127.0.0.1", false, "loopback"},
		{"127.255.255.254", false, "loopback"},
		{"169.254.169.254", false, "link-local (cloud metadata)"},
		{"172.16.0.1", false, "private"},
		{"172.31.255.255", false, "private"},
		{"172.15.255.255", true, "just below 172.16/12"},
		{"172.32.0.0", true, "just above 172.16/12"},
		{"192.0.0.1", false, "IETF protocol assignments"},
		{"192.0.0.9", false, "IETF protocol assignments (the whole block is refused)"},
		{"192.0.2.1", false, "TEST-NET-1"},
		{"192.0.3.1", true, "just above TEST-NET-1"},
		{"192.88.99.1", false, "6to4 relay anycast"},
		{"192.168.1.1", false, "private"},
		{"198.18.0.1", false, "benchmarking"},
		{"198.19.255.255", false, "benchmarking"},
		{"198.20.0.0", true, "just above benchmarking"},
		{"198.51.100.7", false, "TEST-NET-2"},
		{"203.0.113.7", false, "TEST-NET-3"},
		{"224.0.0.1", false, "multicast"},
		{"239.255.255.250", false, "multicast"},
		{"240.0.0.1", false, "reserved"},
		{"255.255.255.255", false, "limited broadcast"},
		{"93.184.216.34", true, "public"},
		{"8.8.8.8", true, "public"},

		{"::", false, "unspecified"},
		{"::1", false, "loopback"},
		{"::ffff:127.0.0.1", false, "IPv4-mapped loopback"},
		{"::ffff:10.0.0.1", false, "IPv4-mapped private"},
		{"::ffff:0.0.0.0", false, "IPv4-mapped this network"},
		{"::ffff:8.8.8.8", true, "IPv4-mapped public"},
		{"::127.0.0.1", false, "IPv4-compatible"},
		{"::8.8.8.8", false, "IPv4-compatible (deprecated, refused whatever it carries)"},
		{"64:ff9b::7f00:1", false, "NAT64 of 127.0.0.1"},
		{"64:ff9b::808:808", false, "NAT64 of a public address (the translator may reach private ones)"},
		{"64:ff9b:1::1", false, "NAT64 local use"},
		{"100::1", false, "discard-only"},
		{"2001::1", false, "Teredo"},
		{"2001:1::1", false, "IETF protocol assignments (the whole /23 is refused)"},
		{"2001:1ff:ffff::1", false, "end of 2001::/23"},
		{"2001:200::1", true, "just above 2001::/23"},
		{"2001:db8::1", false, "documentation"},
		{"2002:7f00:1::1", false, "6to4"},
		{"3fff::1", false, "documentation (RFC 9637)"},
		{"5f00::1", false, "segment routing"},
		{"fc00::1", false, "unique local"},
		{"fd12:3456::1", false, "unique local"},
		{"fe80::1", false, "link-local"},
		{"fe80::1%eth0", false, "link-local with a zone"},
		{"fec0::1", false, "site-local"},
		{"ff02::1", false, "multicast"},
		{"2606:2800:220:1::1", true, "public"},
		{"2a00:1450:4001::1", true, "public"},
	}
	for _, c := range cases {
		if got := Public(netip.MustParseAddr(c.addr)); got != c.public {
			t.Errorf("Public(%s) = %v, want %v (%s)", c.addr, got, c.public, c.why)
		}
	}
	if Public(netip.Addr{}) {
		t.Error("the zero Addr is public")
	}
}

// B5: registration refuses a host outbound calls could never reach with
// private delivery off; names are left to the dial-time check.
func TestCheckHost(t *testing.T) {
	cases := []struct {
		host string
		ok   bool
	}{
		{"localhost", false},
		{"LOCALHOST.", false},
		{"app.localhost", false},
		{"127.0.0.1", false},
		{"10.1.2.3", false},
		{"::1", false},
		{"::ffff:169.254.169.254", false},
		{"64:ff9b::a00:1", false},
		{"127.1", false},
		{"2130706433", false},
		{"0x7f000001", false},
		{"10.0.0.0x1", false},
		{"93.184.216.34", true},
		{"2606:2800:220:1::1", true},
		{"app.example", true},
		{"1password.com", true},
		{"app.example.", true},
	}
	for _, c := range cases {
		err := CheckHost(c.host)
		if (err == nil) != c.ok {
			t.Errorf("CheckHost(%q) = %v, want ok=%v", c.host, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrSpecialPurpose) {
			t.Errorf("CheckHost(%q) = %v, not ErrSpecialPurpose", c.host, err)
		}
	}
}
