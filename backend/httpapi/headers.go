package httpapi

import "net/http"

// ContentSecurityPolicy is sent with every response of the server (the web client, the API, its
// errors); downloads of uploaded files replace it with a stricter sandbox (serveStored). Scripts,
// styles and connections come only from the server itself: the built web client has no inline
// script or style element (React sets style properties through the CSSOM, which style-src does
// not govern), so an injected <script> or <style> does nothing. Images may also be data: and
// blob: URLs (previews) and https (bot avatars). No page may frame it.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: blob: https:; media-src 'self' blob:; connect-src 'self'; font-src 'self'; " +
	"object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// PermissionsPolicy turns off the browser features Herald never uses, for the page and anything
// it would embed.
const PermissionsPolicy = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

// securityHeaders sets the headers every response carries, before next runs, so that next may
// replace one (a file download's sandbox CSP) and an error or a 404 carries them too.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY") // for browsers that predate frame-ancestors
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Permissions-Policy", PermissionsPolicy)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}
