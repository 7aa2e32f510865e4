package restore

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"restoredesk/internal/audit"
	"restoredesk/internal/postgres"
)

// The bounds of a team's longest lifetime, in days.
const (
	MinKeepDays = 1
	MaxKeepDays = 365
	// DefaultKeepDays is the form's "Keep for" when nothing is typed.
	DefaultKeepDays = 3
)

// PolicyForm is the admin's team policy form as typed.
type PolicyForm struct {
	MaxKeepDays     string
	PrepaidAllowed  bool
	RemindOnly      bool
	SecondLeadAbove string // CNY per month; empty: never
}

// FormOf returns the form showing p.
func FormOf(p postgres.TeamPolicy) PolicyForm {
	f := PolicyForm{MaxKeepDays: strconv.Itoa(p.MaxKeepDays), PrepaidAllowed: p.PrepaidAllowed, RemindOnly: p.RemindOnly}
	if p.SecondLeadAbove != nil {
		f.SecondLeadAbove = strconv.FormatFloat(*p.SecondLeadAbove, 'f', -1, 64)
	}
	return f
}

// ParsePolicy checks the form and returns the policy, or problems keyed by
// field (nil when there are none).
func ParsePolicy(f PolicyForm) (postgres.TeamPolicy, map[string]string) {
	problems := map[string]string{}
	p := postgres.TeamPolicy{PrepaidAllowed: f.PrepaidAllowed, RemindOnly: f.RemindOnly}
	n, err := strconv.Atoi(strings.TrimSpace(f.MaxKeepDays))
	switch {
	case err != nil:
		problems["max_keep_days"] = "Enter the longest lifetime as a whole number of days."
	case n < MinKeepDays || n > MaxKeepDays:
		problems["max_keep_days"] = fmt.Sprintf("Choose from %d to %d days.", MinKeepDays, MaxKeepDays)
	}
	p.MaxKeepDays = n
	if s := strings.TrimSpace(f.SecondLeadAbove); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 || v > 1e9 || math.IsNaN(v) {
			problems["second_lead_above"] = "Enter an amount in CNY per month, such as 500, or leave it empty for never."
		} else {
			p.SecondLeadAbove = &v
		}
	}
	if len(problems) > 0 {
		return postgres.TeamPolicy{}, problems
	}
	return p, nil
}

// SetTeamPolicy stores team's policy with its admin.team_policy_changed
// event in one transaction. It returns ErrNoChange when the policy is the
// one the team has.
func SetTeamPolicy(ctx context.Context, pool *pgxpool.Pool, a audit.Actor, team postgres.Team, p postgres.TeamPolicy) error {
	return postgres.New(pool).Tx(ctx, func(tx *postgres.DB) error {
		old, err := tx.LockTeamPolicy(ctx, team.ID)
		if err != nil {
			return err
		}
		changes := policyChanges(old, p)
		if len(changes) == 0 {
			return ErrNoChange
		}
		if err := tx.SetTeamPolicy(ctx, team.ID, p); err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx.Conn(), audit.Event{
			Actor: a, Action: audit.AdminTeamPolicyChanged, TargetType: audit.TargetTeam,
			TargetID: strconv.FormatInt(team.ID, 10), TeamID: team.ID,
			Details: map[string]any{"team": team.Name, "changes": changes},
		})
		return err
	})
}

// policyChanges lists what differs, {field: {"from": old, "to": new}}, in
// the words of the audit details (a threshold of "never" is null).
func policyChanges(old, p postgres.TeamPolicy) map[string]any {
	changes := map[string]any{}
	put := func(field string, from, to any) { changes[field] = map[string]any{"from": from, "to": to} }
	if old.MaxKeepDays != p.MaxKeepDays {
		put("max_keep_days", old.MaxKeepDays, p.MaxKeepDays)
	}
	if old.PrepaidAllowed != p.PrepaidAllowed {
		put("prepaid_allowed", old.PrepaidAllowed, p.PrepaidAllowed)
	}
	if old.RemindOnly != p.RemindOnly {
		put("remind_only", old.RemindOnly, p.RemindOnly)
	}
	if !sameAmount(old.SecondLeadAbove, p.SecondLeadAbove) {
		put("second_lead_above", old.SecondLeadAbove, p.SecondLeadAbove)
	}
	return changes
}

func sameAmount(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
