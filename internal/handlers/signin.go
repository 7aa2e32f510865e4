package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"restoredesk/internal/identity"
	"restoredesk/internal/policy"
	"restoredesk/internal/views"
)

// badCredentials is the one message for every failed sign-in: it never says
// whether the username exists or which part was wrong.
const badCredentials = "The username or password is not right."

// signInForm shows the sign-in form; signed-in users go to the dashboard.
func (h *Handler) signInForm(c echo.Context) error {
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	noStore(c)
	return h.renderSignIn(c, http.StatusOK, views.SignInProps{Next: safeNext(c.QueryParam("next"))})
}

func (h *Handler) renderSignIn(c echo.Context, status int, p views.SignInProps) error {
	p.DemoUsers = h.DemoUsers
	p.SSO = h.SSO != nil
	if p.Next == "/" {
		p.Next = ""
	}
	return render(c, status, views.SignIn(h.page(c, "Sign in", ""), p))
}

// signIn checks the form's username and password. Success starts a new
// session (a new id, whatever the cookie held before) and goes to next;
// failure shows the form again with one generic message, status 422, or 429
// while earlier failures from this address hold sign-in back.
func (h *Handler) signIn(c echo.Context) error {
	noStore(c)
	username, password := c.FormValue("username"), c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	resume := resumeFrom(c.FormValue("resume_path"), c.FormValue("resume_form"))
	client := clientOf(c)
	client.Device = h.knownDevice(c)
	sess, err := h.Identity.SignIn(c.Request().Context(), username, password, client)
	var throttled *identity.ThrottledError
	switch {
	case errors.Is(err, identity.ErrBadCredentials):
		return h.renderSignIn(c, http.StatusUnprocessableEntity, views.SignInProps{Username: username, Next: next, Error: badCredentials, Resume: resume})
	case errors.As(err, &throttled):
		c.Response().Header().Set("Retry-After", fmt.Sprint(int(throttled.Wait().Seconds())))
		return h.renderSignIn(c, http.StatusTooManyRequests, views.SignInProps{Username: username, Next: next, Resume: resume,
			Error: fmt.Sprintf("Too many failed sign-ins. Wait %s and try again.", throttled.Wait())})
	case err != nil:
		return err
	}
	// A session this browser already had ends here: its id leaves the
	// cookie, and a copy of that cookie elsewhere must not live on.
	if prev := h.sessionID(c); prev != "" {
		if err := h.Identity.SignOut(c.Request().Context(), prev, clientOf(c)); err != nil {
			return err
		}
	}
	if err := h.startCookieSession(c, sess.ID); err != nil {
		return err
	}
	h.rememberDevice(c, client.Device, sess.User.Username)
	h.Log.InfoContext(c.Request().Context(), "signed in", "user", sess.User.Username)
	if resume != nil {
		return h.renderResume(c, sess.User, resume, next)
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// signOut ends this session only: its row goes, so the cookie — this one or
// any copy of it — never works again. Other sessions of the user stay.
func (h *Handler) signOut(c echo.Context) error {
	if id := h.sessionID(c); id != "" {
		if err := h.Identity.SignOut(c.Request().Context(), id, clientOf(c)); err != nil {
			return err
		}
	}
	if err := h.endCookieSession(c, "You have signed out."); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/signin")
}

// deviceCookie marks a browser that has signed in here before. It is signed
// and encrypted like the session cookie and holds a random id and the
// accounts that signed in from it; the throttle lets such a browser through
// when strangers' failures have slowed its address or account down.
const deviceCookie = "restoredesk_device"

// deviceMaxAge is how long a known device stays known without signing in.
// (gorilla/securecookie refuses cookies older than the store's 30 days too.)
const deviceMaxAge = 30 * 24 * 3600

// knownDevice returns what the request's device cookie vouches for, or nil.
func (h *Handler) knownDevice(c echo.Context) *identity.Device {
	s, err := h.Sessions.Get(c.Request(), deviceCookie)
	if err != nil || s.IsNew {
		return nil
	}
	id, _ := s.Values["id"].(string)
	users, _ := s.Values["users"].([]string)
	if id == "" {
		return nil
	}
	return &identity.Device{ID: id, Usernames: users}
}

// rememberDevice records in the device cookie that username signed in from
// this browser (the most recent accounts first, a few at most).
func (h *Handler) rememberDevice(c echo.Context, d *identity.Device, username string) {
	if d == nil {
		d = &identity.Device{ID: identity.NewDeviceID()}
	}
	users := []string{username}
	for _, u := range d.Usernames {
		if u != username && len(users) < identity.MaxDeviceAccounts {
			users = append(users, u)
		}
	}
	s, _ := h.Sessions.New(c.Request(), deviceCookie)
	s.Options = &sessions.Options{Path: "/", MaxAge: deviceMaxAge, HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode}
	s.Values["id"], s.Values["users"] = d.ID, users
	if err := s.Save(c.Request(), c.Response()); err != nil {
		h.Log.WarnContext(c.Request().Context(), "save device cookie", "err", err)
	}
}

// renderResumeSignIn answers a form posted into an ended session: 401 with
// the sign-in form, which carries the posted form through sign-in, and goes
// back afterwards to the page the form was on (when it was ours).
func (h *Handler) renderResumeSignIn(c echo.Context) error {
	r := c.Request()
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	next := "/"
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
		next = safeNext(ref.RequestURI())
	}
	if next == "/signin" || strings.HasPrefix(next, "/signin?") {
		next = "/"
	}
	resume := resumeFrom(r.URL.Path, form.Encode())
	noStore(c)
	if resume == nil {
		return errors.New("nothing to resume")
	}
	return h.renderSignIn(c, http.StatusUnauthorized, views.SignInProps{Next: next, Resume: resume,
		Error: "Your session has ended. Sign in again to send your form."})
}

// resumeFrom returns the form to resume after sign-in, or nil when there is
// none or it is not one of ours: the path must be a local path other than
// sign-in itself, and the fields clean text.
func resumeFrom(path, form string) *views.Resume {
	if path == "" || safeNext(path) != path || strings.Contains(path, "?") || path == "/signin" || path == "/signout" {
		return nil
	}
	values, err := url.ParseQuery(form)
	if err != nil || !cleanValues(values) {
		return nil
	}
	return &views.Resume{Path: path, Form: values.Encode()}
}

// renderResume shows, after sign-in, the form that was posted into the
// ended session, to be checked and sent again.
func (h *Handler) renderResume(c echo.Context, u *policy.User, r *views.Resume, back string) error {
	values, _ := url.ParseQuery(r.Form)
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	p := views.ResumeProps{Action: r.Path, Back: back}
	for _, name := range names {
		secret := strings.Contains(name, "password") || name == "current" || name == "new"
		for _, v := range values[name] {
			p.Fields = append(p.Fields, views.ResumeField{Name: name, Value: v, Secret: secret})
		}
	}
	c.Set(userKey, u)
	c.Set(viewerKey, viewerOf(u))
	noStore(c)
	return render(c, http.StatusOK, views.ResumeForm(h.page(c, "Send your form again", ""), p))
}
