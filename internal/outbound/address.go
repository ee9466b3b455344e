package outbound

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrSpecialPurpose means a host is, or names, an address outbound calls
// may not reach when private network delivery is off.
var ErrSpecialPurpose = errors.New("special-purpose address")

// specialPurpose are the ranges of the IANA IPv4 and IPv6 Special-Purpose
// Address Registries (RFC 6890 and its updates) that are not globally
// reachable, plus the translation and tunnelling ranges that lead to
// them. Loopback, link-local, multicast, unspecified and the limited
// broadcast address are refused by IsGlobalUnicast before this list is
// read; they are listed anyway so the table reads as the registries do.
//
// Where the registry marks a few addresses of a block globally reachable
// (192.0.0.9 and 192.0.0.10 in 192.0.0.0/24; the anycast, AMT, AS112 and
// ORCHID assignments in 2001::/23), the whole block is refused: no app
// receives logout tokens there, and one rule is easier to trust.
var specialPurpose = prefixes(
	// IPv4 (iana-ipv4-special-registry)
	"0.0.0.0/8",          // "this network" (RFC 791); 0.0.0.0 reaches the host itself on Linux
	"10.0.0.0/8",         // private use (RFC 1918)
	"100.64.0.0/10",      // shared address space, carrier-grade NAT (RFC 6598)
	"127.0.0.0/8",        // loopback (RFC 1122)
	"169.254.0.0/16",     // link-local, cloud metadata services (RFC 3927)
	"172.16.0.0/12",      // private use (RFC 1918)
	"192.0.0.0/24",       // IETF protocol assignments (RFC 6890)
	"192.0.2.0/24",       // documentation, TEST-NET-1 (RFC 5737)
	"192.88.99.0/24",     // deprecated 6to4 relay anycast (RFC 7526)
	"192.168.0.0/16",     // private use (RFC 1918)
	"198.18.0.0/15",      // benchmarking (RFC 2544)
	"198.51.100.0/24",    // documentation, TEST-NET-2 (RFC 5737)
	"203.0.113.0/24",     // documentation, TEST-NET-3 (RFC 5737)
	"224.0.0.0/4",        // multicast (RFC 5771)
	"240.0.0.0/4",        // reserved (RFC 1112)
	"255.255.255.255/32", // limited broadcast (RFC 919)

	// IPv6 (iana-ipv6-special-registry)
	"::/128",         // unspecified (RFC 4291)
	"::1/128",        // loopback (RFC 4291)
	"::/96",          // IPv4-compatible, deprecated (RFC 4291): ::7f00:1 is 127.0.0.1
	"64:ff9b::/96",   // NAT64 well-known prefix (RFC 6052): reaches any IPv4 address, private ones included
	"64:ff9b:1::/48", // NAT64 local use (RFC 8215)
	"100::/64",       // discard-only (RFC 6666)
	"2001::/23",      // IETF protocol assignments, Teredo included (RFC 2928, 4380)
	"2001:db8::/32",  // documentation (RFC 3849)
	"2002::/16",      // 6to4 (RFC 3056): embeds any IPv4 address
	"3fff::/20",      // documentation (RFC 9637)
	"5f00::/16",      // segment routing SIDs (RFC 9602)
	"fc00::/7",       // unique local (RFC 4193)
	"fe80::/10",      // link-local (RFC 4291)
	"fec0::/10",      // site-local, deprecated (RFC 3879)
	"ff00::/8",       // multicast (RFC 4291)
)

func prefixes(list ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(list))
	for i, s := range list {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// Public reports whether a may be the target of an outbound call when
// private network delivery is off: a globally reachable unicast address.
// An IPv4-mapped IPv6 address (::ffff:0:0/96) is judged by the IPv4
// address it carries; an address with a zone is link-scoped and refused.
func Public(a netip.Addr) bool {
	if !a.IsValid() || a.Zone() != "" {
		return false
	}
	a = a.Unmap()
	if !a.IsGlobalUnicast() {
		return false
	}
	for _, p := range specialPurpose {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// CheckHost refuses, at registration, a URL host that outbound calls could
// never reach with private network delivery off: an IP literal that is not
// Public, localhost and names under .localhost (RFC 6761 §6.3: they
// resolve to loopback), and numeric forms some resolvers read as IPv4
// addresses (127.1, 0x7f000001, 2130706433; no real domain has an
// all-numeric top label). host is url.URL.Hostname(): no port, no
// brackets. Other names pass: what they resolve to is checked on every
// dial.
func CheckHost(host string) error {
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return fmt.Errorf("%w: %s is loopback", ErrSpecialPurpose, host)
	}
	if a, err := netip.ParseAddr(name); err == nil {
		if !Public(a) {
			return fmt.Errorf("%w: %s is not globally reachable", ErrSpecialPurpose, host)
		}
		return nil
	}
	labels := strings.Split(name, ".")
	if numeric(labels[len(labels)-1]) {
		return fmt.Errorf("%w: %s is a numeric host that resolvers may read as an IPv4 address", ErrSpecialPurpose, host)
	}
	return nil
}

// numeric reports a label of decimal digits, or 0x and hex digits.
func numeric(label string) bool {
	if hex, ok := strings.CutPrefix(label, "0x"); ok {
		return strings.Trim(hex, "0123456789abcdef") == ""
	}
	return label != "" && strings.Trim(label, "0123456789") == ""
}
