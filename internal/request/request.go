package request

import (
	"encoding/json"
	"time"
)

// Request is a restore request: the one domain type every layer uses.
// Storage scans rows of restore_requests (with the names of the team, the
// requester and the decider) into it by the db tags.
type Request struct {
	ID                 int64           `db:"id"`
	SubmissionKey      string          `db:"submission_key"`
	TeamID             int64           `db:"team_id"`
	TeamName           string          `db:"team_name"`
	RequesterID        int64           `db:"requester_id"`
	RequesterName      string          `db:"requester_name"`
	Status             Status          `db:"status"`
	Region             string          `db:"region"`
	SourceInstanceID   string          `db:"source_instance_id"`
	SourceInstanceName string          `db:"source_instance_name"`
	BackupID           string          `db:"backup_id"`
	BackupName         string          `db:"backup_name"`
	BackupTime         string          `db:"backup_time"`
	BackupSizeBytes    int64           `db:"backup_size_bytes"`
	Engine             string          `db:"engine"`
	Spec               json.RawMessage `db:"spec"`
	Reason             string          `db:"reason"`
	CreatedAt          time.Time       `db:"created_at"`
	UpdatedAt          time.Time       `db:"updated_at"`
	ExpiresAt          time.Time       `db:"expires_at"`
	DecidedBy          *int64          `db:"decided_by"`
	DeciderName        *string         `db:"decider_name"`
	DecidedAt          *time.Time      `db:"decided_at"`
	DecisionComment    string          `db:"decision_comment"`
	NextCheckAt        *time.Time      `db:"next_check_at"`
	CreateAttempts     int             `db:"create_attempts"`
	CreateSentAt       *time.Time      `db:"create_sent_at"`
	InstanceID         string          `db:"instance_id"`
	InstanceStatus     string          `db:"instance_status"`
	InstanceCreatedAt  *time.Time      `db:"instance_created_at"`
	InternalDomainName string          `db:"internal_domain_name"`
	InstancePort       string          `db:"instance_port"`
	PollCount          int             `db:"poll_count"`
	FailureReason      string          `db:"failure_reason"`
	Failure            json.RawMessage `db:"failure"`
	FinishedAt         *time.Time      `db:"finished_at"`
	// The at-most-once protocol's facts, on the database's clock (see the
	// worker): when the last create call ended, since when creates have been
	// certainly refused, and the one more tag search an unanswered create gets.
	CreateEndedAt *time.Time `db:"create_ended_at"`
	RetrySince    *time.Time `db:"retry_since"`
	RecheckTag    bool       `db:"recheck_tag"`
	TagCheckAt    *time.Time `db:"tag_check_at"`
	TagCheckTries int        `db:"tag_check_tries"`
	// Kind says what is restored: a full backup (BackupID) or the source as
	// it was at RestoreTime.
	Kind        Kind       `db:"kind"`
	RestoreTime *time.Time `db:"restore_time"`
	// KeepDays is how long the copy is kept, in days from Ready; nil for
	// requests filed before copies had a lifetime.
	KeepDays *int `db:"keep_days"`
}

// Kind is what a request restores.
type Kind string

const (
	// FromBackup restores a full backup of the source instance.
	FromBackup Kind = "backup"
	// ToPointInTime restores the source instance as it was at a moment.
	ToPointInTime Kind = "time"
)

// Label is the kind in words.
func (k Kind) Label() string {
	if k == ToPointInTime {
		return "A point in time"
	}
	return "A backup"
}
