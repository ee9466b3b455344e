package session

import "strings"

// Agent is what a User-Agent header says about a device, in words a person
// recognises on the account page ("Chrome on macOS"). Either field is empty
// when the header does not say.
type Agent struct {
	Browser string
	OS      string
}

// String names the device: "Chrome on macOS", "Firefox" when the system is
// unknown, "Unknown browser on Linux" when the browser is, and "Unknown
// browser" when neither is.
func (a Agent) String() string {
	b := a.Browser
	if b == "" {
		b = "Unknown browser"
	}
	if a.OS == "" {
		return b
	}
	return b + " on " + a.OS
}

// DeviceName is ParseUserAgent(ua).String().
func DeviceName(ua string) string { return ParseUserAgent(ua).String() }

// browserMarks are the product tokens of the major browsers, in the order
// they are tried. Browsers built on Chromium or WebKit also carry Chrome/
// and Safari/ tokens, so each marks itself with one of its own that the
// engine it builds on does not have, and those come first.
var browserMarks = []struct{ name, token string }{
	{"Samsung Internet", "SamsungBrowser/"},
	{"Opera", "OPR/"},
	{"Opera", "OPiOS/"},
	{"Opera", "OPT/"},
	{"Opera", "Opera"},
	{"Edge", "Edg/"},
	{"Edge", "EdgA/"},
	{"Edge", "EdgiOS/"},
	{"Edge", "Edge/"},
	{"Firefox", "FxiOS/"},
	{"Firefox", "Firefox/"},
	{"Chrome", "CriOS/"},
	{"Chrome", "Chrome/"}, // HeadlessChrome/ and Chromium builds too
}

// ParseUserAgent reads the browser and the operating system from a
// User-Agent header. It knows the major browsers (Chrome, Edge, Firefox,
// Safari, Opera, Samsung Internet) and systems (Windows, macOS, iOS,
// iPadOS, Android, Linux, ChromeOS); anything else is left empty rather
// than guessed. An iPad asking for desktop sites says it is a Mac, so it
// reads as macOS: the header does not tell them apart.
func ParseUserAgent(ua string) Agent {
	return Agent{Browser: browserOf(ua), OS: osOf(ua)}
}

func browserOf(ua string) string {
	for _, m := range browserMarks {
		if strings.Contains(ua, m.token) {
			return m.name
		}
	}
	// Safari's own header has Version/ beside Safari/; an app's embedded
	// WebKit view has neither, and is not Safari.
	if strings.Contains(ua, "Safari/") && strings.Contains(ua, "Version/") {
		return "Safari"
	}
	return ""
}

func osOf(ua string) string {
	// Order matters: ChromeOS and Android headers also say Linux, and
	// iPhone and iPad headers say "like Mac OS X".
	switch {
	case strings.Contains(ua, "CrOS"):
		return "ChromeOS"
	case strings.Contains(ua, "Android"):
		return "Android"
	case strings.Contains(ua, "iPad"):
		return "iPadOS"
	case strings.Contains(ua, "iPhone"), strings.Contains(ua, "iPod"):
		return "iOS"
	case strings.Contains(ua, "Windows"):
		return "Windows"
	case strings.Contains(ua, "Macintosh"), strings.Contains(ua, "Mac OS X"):
		return "macOS"
	case strings.Contains(ua, "Linux"):
		return "Linux"
	}
	return ""
}
