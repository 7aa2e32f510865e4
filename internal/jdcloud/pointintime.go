package jdcloud

import "time"

// Point-in-time restore (createInstanceByTime): which engines offer it and how far back it
// may go. What JD Cloud documents is marked; the rest is assumed and kept here, in one place.
var (
	// PointInTimeEngines have point-in-time restore. JD Cloud's console guides cover MySQL,
	// Percona, MariaDB and SQL Server (confirmed); none covers PostgreSQL, so it is not
	// offered (unconfirmed).
	PointInTimeEngines = []string{EngineMySQL, EnginePercona, EngineMariaDB, EngineSQLServer}
)

const (
	// PointInTimeDays is how many days back the console lets one choose (confirmed: "any day
	// of the last 7 days"), further bounded by the backup policy's retention.
	PointInTimeDays = 7
	// PointInTimeAfterCreate is how long after the source's creation the first restorable
	// moment is (confirmed: on the creation day, at least 30 minutes after it).
	PointInTimeAfterCreate = 30 * time.Minute
	// SQLServerSwitchoverPause: no point-in-time restore of SQL Server within 30 minutes after
	// a primary/standby switchover (confirmed). JD Cloud refuses those itself; Restore Desk
	// cannot see switchovers and passes the refusal on.
	SQLServerSwitchoverPause = 30 * time.Minute
)

// BinlogRetention converts describeBackupPolicy's binlogRetentionPeriod to a duration. Its
// JSDoc says days (1–7); the modify call's says hours (1–168). Days are assumed
// (unconfirmed); this is the one place to change if it turns out to be hours.
func BinlogRetention(v int) time.Duration { return time.Duration(v) * 24 * time.Hour }

// RestoreWindow is the span a restore point must lie in, with what bounds its start.
type RestoreWindow struct {
	From, To   time.Time
	FromReason string // why From is where it is, in words
}

// Contains reports whether t lies in the window.
func (w RestoreWindow) Contains(t time.Time) bool { return !t.Before(w.From) && !t.After(w.To) }

// RestoreWindowFor computes the window of a source instance at now: the last
// PointInTimeDays days, shortened to what the backup policy keeps (backups and, when set,
// binlogs), starting no earlier than PointInTimeAfterCreate after the source was created;
// it ends now, or at latest when JD Cloud names the latest restorable moment (SQL Server's
// describeLatestRestoreTime; zero otherwise).
func RestoreWindowFor(created time.Time, policy *BackupPolicy, latest, now time.Time) RestoreWindow {
	w := RestoreWindow{To: now, From: now.AddDate(0, 0, -PointInTimeDays), FromReason: "the last 7 days"}
	if !latest.IsZero() && latest.Before(w.To) {
		w.To = latest
	}
	if policy != nil {
		if policy.RetentionPeriod > 0 && policy.RetentionPeriod < PointInTimeDays {
			w.From, w.FromReason = now.AddDate(0, 0, -policy.RetentionPeriod), "as far back as backups are kept"
		}
		if b := BinlogRetention(policy.BinlogRetentionPeriod); policy.BinlogRetentionPeriod > 0 && now.Add(-b).After(w.From) {
			w.From, w.FromReason = now.Add(-b), "as far back as binlogs are kept"
		}
	}
	if first := created.Add(PointInTimeAfterCreate); !created.IsZero() && first.After(w.From) {
		w.From, w.FromReason = first, "30 minutes after the source instance was created"
	}
	return w
}
