// Package experiment reads, checks and resolves prosim experiment files: the declarative
// description of a study (population, scenarios, conditions, backends, replicates, seeds).
// Every problem is reported with the file, line and field it concerns.
package experiment

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/provider"
	"github.com/prosim/prosim/internal/seed"
	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/yamlx"
)

// Experiment is an experiment file as written, plus resolved defaults.
// CacheNATS is the cache setting (cache: nats, --cache nats) that keeps the reply cache in
// the broker's key-value bucket, shared by every run on the broker.
const CacheNATS = "nats"

type Experiment struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	Study       string `yaml:"study"`
	// Seed drives every random draw. When absent, one is chosen from the clock and written to
	// the resolved config in the run directory, so the run can still be repeated exactly.
	Seed       *uint64    `yaml:"seed"`
	Replicates int        `yaml:"replicates"`
	Population Population `yaml:"population"`
	Scenarios  []string   `yaml:"scenarios,omitempty"`
	// ScenarioFiles and PolicyFiles are users' YAML libraries, relative to the experiment file
	// (in a run directory's config.yaml, to the run directory: see Bundle).
	ScenarioFiles []string    `yaml:"scenario_files,omitempty"`
	PolicyFiles   []string    `yaml:"policy_files,omitempty"`
	Conditions    []Condition `yaml:"conditions"`
	// Contrasts are the paired comparisons between conditions a study reports; absent, a
	// study compares every condition with the first (the control). Only Study 1 (vignettes)
	// reads them so far; this package checks that they name conditions.
	Contrasts []Contrast `yaml:"contrasts,omitempty"`
	Prompt    Prompt     `yaml:"prompt,omitempty"`
	// Factors are prompt-design factors crossed with the conditions (factors.go).
	Factors  Factors   `yaml:"factors,omitempty"`
	Backend  *Backend  `yaml:"backend,omitempty"`
	Backends []Backend `yaml:"backends,omitempty"`
	// Concurrency is how many decisions are in flight at once (all backends together).
	Concurrency int `yaml:"concurrency,omitempty"`
	// MaxRepairs is how often an invalid LLM reply is re-asked before it is recorded invalid.
	MaxRepairs *int `yaml:"max_repairs,omitempty"`
	// OnError says what a decision whose backend still fails after its retries becomes:
	// "record" (the default, also "") records it invalid with the error as its reason and the
	// run goes on; "stop" stops the run (prosim resume asks it again).
	OnError string `yaml:"on_error,omitempty"`
	// Cache is the response cache file; "" means the user cache directory, "off" disables it,
	// and "nats" keeps it in the broker's key-value bucket (distributed runs; ./nats is a file).
	Cache  string           `yaml:"cache,omitempty"`
	Prices map[string]Price `yaml:"prices,omitempty"`
	// Budget caps what the run may spend on providers (nil: no cap).
	Budget *Budget `yaml:"budget,omitempty"`
	// Execution says how a study's steps reach the providers.
	Execution Execution `yaml:"execution,omitempty"`

	// Block is the study's own config block (see RegisterBlock): *tpp.Config, *network.Config,
	// *games.Config (internal/study/...), or a plugin study's; nil for a study without one.
	Block Block `yaml:"-"`
	given bool  // the file gives the study's block
	// blockOK says the block's Check found no problem in the block (its input files are
	// resolved), which may have had values of the wrong type, left out.
	blockOK bool
	popOK   bool // the population block's check found no problem
	// undecoded are the fields the file's values of the wrong type and unknown keys left out
	// of decoding (yamlx.Doc.DecodeSound), the study's block's included; blockPartial says
	// the block had such problems, and was decoded without them (its Check runs, see
	// Decoded); blockUndecoded that it could not be decoded apart from them (its Check, which
	// reads the whole block, waits for them).
	undecoded      map[string]bool
	blockPartial   bool
	blockUndecoded bool
	other          []string // other studies' blocks given (an error)
	// libs are the scenario and policy libraries Load read, for the run (Libraries).
	libs *libraries
	// problems and fileProblems are those Load found (Problems); broken the top-level keys
	// they concern (Sound), and the keys naming files with problems (scenario_files,
	// population, the study's block); brokenFields the fields of the file they are placed at
	// (SoundField).
	problems     error
	fileProblems []error
	broken       map[string]bool
	brokenFields map[string]bool

	// Dir is the directory of the experiment file, for relative paths.
	Dir string `yaml:"-"`
	// File is the path the experiment was read from.
	File string `yaml:"-"`
	// doc is File as LoadChecking parsed it, until Locator takes it.
	doc *yamlx.Doc
}

// Population says where the agents come from.
type Population struct {
	// Source is "sample" (seeded sampler), "prosim104" (the original study's agents) or "file".
	Source string `yaml:"source"`
	N      int    `yaml:"n,omitempty"`
	// Seed is the sampler's seed (source: sample). When absent it is derived from the
	// experiment's seed, and the resolved config records the one used, so
	// `prosim personas --n N --seed S` gives the run's agents.
	Seed     *uint64 `yaml:"seed,omitempty"`
	File     string  `yaml:"file,omitempty"`
	Currency string  `yaml:"currency,omitempty"`
	// ShowScores and ShowAverages add trait scores and population averages to persona text.
	ShowScores   bool `yaml:"show_scores,omitempty"`
	ShowAverages bool `yaml:"show_averages,omitempty"`
}

// Condition is one experimental condition: a policy frame shown with every scenario.
type Condition struct {
	Name   string `yaml:"name"`
	Policy string `yaml:"policy"`
	// Inequity is the condition's unfair treatment of a target group. It belongs to the study
	// whose block owns the field (ConditionFields: Study 3, internal/study/network): this
	// package only carries it, decoded as a generic value; that block's Check decodes it from
	// the file (errors located) and replaces it by its own checked type, which the resolved
	// config writes.
	Inequity any `yaml:"inequity,omitempty"`
}

// Contrast compares one condition with a reference condition: condition minus against.
type Contrast struct {
	Condition string `yaml:"condition"`
	Against   string `yaml:"against"`
}

// Prompt chooses how scenarios are put to agents.
type Prompt struct {
	// Mode is "separate" (one scenario per call, the default) or "joint" (all scenarios in
	// one prompt, in a seeded random order per agent).
	Mode string `yaml:"mode,omitempty"`
}

// Backend configures one decision backend.
type Backend struct {
	// Spec is the --backend SPEC this backend was made from ("" when the file gives it): an
	// error about it names the flag the user typed, not a line of the file it replaced. Not
	// written to config.yaml, where the backend then stands as a block.
	Spec           string   `yaml:"-"`
	Provider       string   `yaml:"provider"`
	Model          string   `yaml:"model,omitempty"`
	BaseURL        string   `yaml:"base_url,omitempty"`
	Endpoints      []string `yaml:"endpoints,omitempty"`
	APIKeyEnv      string   `yaml:"api_key_env,omitempty"`
	Temperature    *float64 `yaml:"temperature,omitempty"`
	TopP           *float64 `yaml:"top_p,omitempty"`
	MaxTokens      int      `yaml:"max_tokens,omitempty"`
	MaxConcurrency int      `yaml:"max_concurrency,omitempty"`
	RPM            float64  `yaml:"rpm,omitempty"`
	TPM            float64  `yaml:"tpm,omitempty"`
	Timeout        Duration `yaml:"timeout,omitempty"`
	MaxAttempts    int      `yaml:"max_attempts,omitempty"`
	// StructuredOutput is auto (the provider's schema-constrained output, the default),
	// json_schema, json_object (OpenAI-compatible servers: any JSON object) or off (plain
	// text, for servers that reject response_format).
	StructuredOutput string `yaml:"structured_output,omitempty"`
	// MaxTokensField is max_tokens or max_completion_tokens (OpenAI-compatible servers;
	// default max_completion_tokens for OpenAI, max_tokens elsewhere).
	MaxTokensField string `yaml:"max_tokens_field,omitempty"`
	// Seed is on (send each decision's seed, derived from the run seed: the default where the
	// API has a seed) or off.
	Seed string `yaml:"seed,omitempty"`
	// N is auto (ask a request's replicates in one call with n samples where the client can,
	// finding out once per run whether the server honours n: the default) or off (one call per
	// replicate).
	N string `yaml:"n,omitempty"`
	// ConnectTimeout bounds establishing a connection (dial and TLS handshake); Timeout still
	// bounds the whole call. 0: only Timeout applies.
	ConnectTimeout Duration `yaml:"connect_timeout,omitempty"`
	// FirstByteTimeout (OpenAI-compatible servers) streams each reply and bounds the wait for
	// its first byte (connection, queueing in the server, prompt processing); Timeout then
	// bounds the rest of the reply, from its first byte. 0: no streaming, Timeout bounds the
	// whole call.
	FirstByteTimeout Duration `yaml:"first_byte_timeout,omitempty"`
	// AdaptiveConcurrency is auto (on for loopback and private-network base URLs: an AIMD limit
	// on calls in flight that backs off when latency grows with them), on or off.
	AdaptiveConcurrency string `yaml:"adaptive_concurrency,omitempty"`
	// MaxRetryAfter caps the wait a server asks for with Retry-After before a retry (default
	// 60s): a server asking for a day would otherwise hold a decision for a day per attempt.
	MaxRetryAfter Duration `yaml:"max_retry_after,omitempty"`
	// MaxReply bounds the size of a reply body (default 1 MiB, at most 64 MiB); a larger reply is
	// recorded invalid, "reply too large", after one call.
	MaxReply Size `yaml:"max_reply,omitempty"`
	// ExtraBody is server-specific request fields sent in every request body (OpenAI-compatible
	// servers only), e.g. Ollama's options: {num_ctx: 4096} or vLLM's top_k; fields prosim
	// sets itself are refused. Part of the cache key.
	ExtraBody ExtraBody `yaml:"extra_body,omitempty"`
	// Label names the backend in results; default provider:model.
	Label string `yaml:"label,omitempty"`
}

// Budget is a hard cap on a run's provider spend, over all its invocations (run and resumes).
type Budget struct {
	USD float64 `yaml:"usd"`
}

// BudgetUSD is the file's budget.usd; 0 for none.
func (e *Experiment) BudgetUSD() float64 {
	if e.Budget == nil {
		return 0
	}
	return e.Budget.USD
}

// Execution says how decisions reach the providers.
type Execution struct {
	// Mode is "sync" (one call per decision, the default, also "") or "batch" (each step of a study
	// goes to the provider as one batch job, billed at the batch price).
	Mode string `yaml:"mode,omitempty"`
	// Poll is how often a batch's status is asked (batch mode; default 30s).
	Poll Duration `yaml:"poll,omitempty"`
	// NATS is a NATS JetStream broker URL (nats://host:4222, tls://...; several separated by
	// commas): decisions are made by prosim workers connected to it (prosim worker). The
	// resolved config in a run directory keeps the URL without its credentials.
	NATS string `yaml:"nats,omitempty"`
}

// CheckBrokerURL checks a broker URL (or a comma-separated list of them).
func CheckBrokerURL(s string) error {
	for _, p := range strings.Split(s, ",") {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil {
			return fmt.Errorf("not a URL such as nats://127.0.0.1:4222")
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("%q: want a nats://, tls://, ws:// or wss:// URL such as nats://127.0.0.1:4222", u.Redacted())
		}
		if u.Host == "" {
			return fmt.Errorf("%q: no host", u.Redacted())
		}
	}
	return nil
}

// StripCredentials is a broker URL (or list) without user, password or token, as written to
// a run directory.
func StripCredentials(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			u.User = nil
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}

// Price is a model's price in USD per million tokens.
type Price struct {
	Input  float64 `yaml:"input"`
	Output float64 `yaml:"output"`
}

// Duration is a time.Duration written as "30s" in YAML.
type Duration time.Duration

// UnmarshalYAML reads a duration string such as "45s" or "2m".
func (d *Duration) UnmarshalYAML(b []byte) error {
	var s string
	if err := yaml.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("expected a duration such as 30s")
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a duration such as 30s or 2m", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// The per-call timeout and attempts of an LLM backend that leaves them out (the coordinator
// and NATS workers alike).
const (
	DefaultTimeout     = 120 * time.Second
	DefaultMaxAttempts = 6
)

// TimeoutOrDefault is the backend's per-call timeout, DefaultTimeout when it gives none.
func (b Backend) TimeoutOrDefault() time.Duration {
	if b.Timeout == 0 {
		return DefaultTimeout
	}
	return time.Duration(b.Timeout)
}

// Defaults and bounds of a backend's waits and replies (see Backend.MaxRetryAfter, MaxReply).
const (
	DefaultMaxRetryAfter = 60 * time.Second
	DefaultMaxReply      = Size(1 << 20)
	// LimitMaxReply bounds max_reply itself: a reply is held in memory, once per call in flight.
	LimitMaxReply = Size(64 << 20)
)

// MaxRetryAfterOrDefault is the backend's cap on Retry-After, DefaultMaxRetryAfter when it
// gives none.
func (b Backend) MaxRetryAfterOrDefault() time.Duration {
	if b.MaxRetryAfter == 0 {
		return DefaultMaxRetryAfter
	}
	return time.Duration(b.MaxRetryAfter)
}

// MaxReplyOrDefault is the backend's reply size limit in bytes, DefaultMaxReply when it gives
// none.
func (b Backend) MaxReplyOrDefault() int64 {
	if b.MaxReply == 0 {
		return int64(DefaultMaxReply)
	}
	return int64(b.MaxReply)
}

// MaxAttemptsOrDefault is how many times a call is tried, DefaultMaxAttempts when it says not.
func (b Backend) MaxAttemptsOrDefault() int {
	if b.MaxAttempts == 0 {
		return DefaultMaxAttempts
	}
	return b.MaxAttempts
}

// URLs are the base URLs of b's servers: its endpoints, else its base URL, else its
// provider's local default (vllm, ollama: as the PROVIDER:MODEL spec does); empty for a hosted
// API's own URL. The first names them in the cache key.
func (b Backend) URLs() []string {
	if len(b.Endpoints) > 0 {
		return b.Endpoints
	}
	if b.BaseURL == "" {
		if info, ok := provider.Lookup(b.Provider); ok {
			return []string{info.LocalURL}
		}
	}
	return []string{b.BaseURL}
}

// Label is the backend's name in results.
func (b Backend) LabelOrDefault() string {
	if b.Label != "" {
		return b.Label
	}
	if b.Provider == "builtin" {
		return "builtin"
	}
	return b.Provider + ":" + b.Model
}

// Load reads and checks an experiment file. Relative paths in it are resolved against its
// directory. The returned experiment has every default filled in.
func Load(path string) (*Experiment, error) {
	data, err := read(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// read reads an experiment file, or says why it cannot.
func read(path string) ([]byte, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory: give an experiment file (a run directory's own is %s)", path, filepath.Join(path, "config.yaml"))
	}
	data, err := yamlx.ReadFile(path)
	if ye := (*yamlx.Error)(nil); errors.As(err, &ye) {
		return nil, err // already says the file (too large, not text)
	}
	if err != nil {
		return nil, fmt.Errorf("reading experiment: %w", err)
	}
	return data, nil
}

// LoadChecking is Load for the commands that check an experiment before they run it
// (validate, run, estimate): an experiment whose checks found problems is returned with them
// (both non-nil), holding them (Problems), so that engine.Prepare reports its own checks'
// problems with them, in one list. A file with values of the wrong type or unknown fields is
// checked without them (yamlx.Doc.DecodeSound). The experiment is nil when the file could not
// be checked at all (unreadable, a syntax error, such values where the rest cannot be decoded
// apart from them: see DecodeSound).
func LoadChecking(path string) (*Experiment, error) {
	data, err := read(path)
	if err != nil {
		return nil, err
	}
	return parseChecking(data, path, true)
}

// Parse checks an experiment given as bytes; name is used in messages and to resolve
// relative paths.
func Parse(data []byte, name string) (*Experiment, error) {
	e, err := parseChecking(data, name, false)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// parseChecking is Parse keeping an experiment with problems (see LoadChecking). keep says
// that data is the file name as read and that the engine's checks follow: the experiment
// keeps its parse for Locator. (Load's experiments do not: a run's resolved config is read for
// reports and tables that do not locate its fields, and would hold it.)
func parseChecking(data []byte, name string, keep bool) (*Experiment, error) {
	e, doc, err := parse(data, name)
	if e == nil {
		return nil, populationBeside(doc, name, err)
	}
	if keep {
		e.doc = doc
	}
	if err := e.checkInputs(doc, err); err != nil {
		e.markBroken(err)
		return e, err
	}
	return e, nil
}

// Problems are the problems Load found (LoadChecking keeps an experiment with them): the
// experiment file's own (nil for none), then each other file's it names, in turn.
func (e *Experiment) Problems() (own error, files []error) { return e.problems, e.fileProblems }

// Sound says that no problem Load found concerns one of the experiment file's top-level
// keys (population, scenarios, ...), the files they name included: a check that reads only
// those may run beside the problems of others.
func (e *Experiment) Sound(keys ...string) bool {
	for _, k := range keys {
		if e.broken[k] || e.broken[everyKey] {
			return false
		}
	}
	return true
}

// SoundField says that no problem Load found is placed at the field at path (written as in
// messages: "backends[1].provider"), at a field inside it, or at a field it is inside: a check
// that reads only that field may run beside the problems of others under the same key (a
// backend's missing API key beside its temperature out of range).
func (e *Experiment) SoundField(path string) bool {
	if e.broken[everyKey] {
		return false
	}
	for f := range e.brokenFields {
		if f == path || within(f, path) || within(path, f) {
			return false
		}
	}
	return true
}

func within(path, outer string) bool { return yamlx.Within(path, outer) }

// markBroken marks the top-level keys of the experiment file that the problems in err
// concern. Another file's problems are marked by checkInputs, which knows the key naming the
// file; a problem it cannot place (more than are shown, or not located) marks every key.
func (e *Experiment) markBroken(err error) {
	for f := range e.undecoded { // the fields misspelt keys were meant for among them
		e.breaks(topKey(f))
		if e.brokenFields == nil {
			e.brokenFields = map[string]bool{}
		}
		e.brokenFields[f] = true
	}
	var walk func(error)
	walk = func(err error) {
		switch x := err.(type) {
		case *yamlx.Error:
			if x.File == e.File && x.Field != "" {
				e.breaks(topKey(x.Field))
				if e.brokenFields == nil {
					e.brokenFields = map[string]bool{}
				}
				e.brokenFields[x.Field] = true
			}
		case *yamlx.Errors:
			if x.More > 0 || x.Stopped {
				e.breaks(everyKey)
			}
			for _, y := range x.Errs {
				walk(y)
			}
		case interface{ Unwrap() []error }:
			for _, y := range x.Unwrap() {
				walk(y)
			}
		default:
			e.breaks(everyKey)
		}
	}
	walk(err)
}

// everyKey marks every key broken.
const everyKey = "*"

func (e *Experiment) breaks(key string) {
	if e.broken == nil {
		e.broken = map[string]bool{}
	}
	e.broken[key] = true
}

// topKey is the top-level key of a field path ("population" of "population.n").
func topKey(field string) string {
	if i := strings.IndexAny(field, ".["); i > 0 {
		return field[:i]
	}
	return field
}

// parse is Parse without reading the files the experiment names: the experiment and its
// problems (nil when it could not be checked at all: doc is nil too for a syntax error, not for
// values of the wrong type that the rest of the file could not be decoded apart from). The
// file is parsed once: the study's block, the rest of the file and the later checks'
// locations all come of doc.
func parse(data []byte, name string) (*Experiment, *yamlx.Doc, error) {
	var e Experiment
	doc, err := yamlx.ParseFile(data, name)
	if populationFile(name) && (err != nil || !doc.IsMapping()) {
		return nil, nil, &yamlx.Error{File: name, Msg: fmt.Sprintf("this is not an experiment file (a YAML mapping of fields is expected); a population file goes in an experiment's population: {source: file, file: %s}", yamlx.Clip(filepath.Base(name)))}
	}
	if err != nil {
		return nil, nil, err
	}
	sp := splitBlock(doc)
	// Values of the wrong type are reported with the checks' problems.
	l := yamlx.NewList(name)
	l.Add(sp.err)
	// A study's condition fields (inequity: its agents may be half a million ids) are left to
	// its block, which decodes them from the file, once, into its own type (fileField).
	owned := owner("inequity") != ""
	// A file with such problems is checked too, without the fields they are placed at
	// (DecodeSound), so that every problem comes in one pass; a check that reads one of those
	// fields is skipped (decoded), lest it report a consequence ("replicates: two" is not
	// also "out of range").
	undecoded, ok, err := doc.DecodeSound(&e, func(path string) bool { return blockKey(path) || owned && isConditionField(path, "inequity") })
	l.Add(err)
	if !ok {
		return nil, doc, l.Err()
	}
	for _, f := range append(undecoded, sp.undecoded...) {
		if e.undecoded == nil {
			e.undecoded = map[string]bool{}
		}
		e.undecoded[f] = true
	}
	// A block whose problems are placed at its fields is checked without them; one that
	// could not be decoded apart from them is not checked.
	e.blockUndecoded = sp.err != nil && !sp.sound
	e.blockPartial = sp.err != nil && sp.sound
	if owned {
		for i := range e.Conditions {
			if n, ok := doc.Node(fmt.Sprintf("conditions[%d].inequity", i)); ok {
				if _, null := n.(*ast.NullNode); !null { // inequity: with no value is as if absent
					e.Conditions[i].Inequity = fileField{n}
				}
			}
		}
	}
	e.Block, e.given, e.other = sp.block, sp.given, sp.other
	e.File = name
	e.Dir = filepath.Dir(name)
	l.Add(e.check(doc))
	return &e, doc, l.Err()
}

// decoded says that the field at path (written as in messages: "backends[1].provider") was
// decoded from the file: no problem of decoding it (a value of the wrong type, a misspelt key
// meant for it) is placed at it, at a field inside it, or at a field it is inside. A check
// that reads a field that was not decoded would report its zero value.
func (e *Experiment) decoded(path string) bool {
	for f := range e.undecoded { // none, but for a file with such problems
		if f == path || within(f, path) || within(path, f) {
			return false
		}
	}
	return true
}

// decodedEntry is decoded for entry i of the list at path, without making its path when the
// file decoded whole (a list of a million scenario ids).
func (e *Experiment) decodedEntry(path string, i int) bool {
	return len(e.undecoded) == 0 || e.decoded(fmt.Sprintf("%s[%d]", path, i))
}

// populationFile says whether name is named as a population file is (persona.Load's
// extensions), which given as an experiment was quoted whole as a string (QA14 F4). A .json
// experiment (JSON is YAML) is read as one when its top level is an object.
func populationFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv", ".tsv", ".json", ".jsonl", ".ndjson":
		return true
	}
	return false
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// isConditionField says whether path is key of a condition: "conditions[3].inequity".
func isConditionField(path, key string) bool {
	rest, ok := strings.CutPrefix(path, "conditions[")
	if !ok {
		return false
	}
	i := strings.IndexByte(rest, ']')
	return i > 0 && strings.Trim(rest[:i], "0123456789") == "" && rest[i+1:] == "."+key
}

// fileField is a condition field's value as the file writes it, not decoded: the study's block
// that owns the field decodes it from the file (its place, doc.DecodeAt) and replaces it by
// its own type. Written out (an experiment whose block found problems), it is the value.
type fileField struct{ node ast.Node }

func (f fileField) MarshalYAML() (any, error) {
	var v any
	err := yaml.NodeToValue(f.node, &v)
	return v, err
}

// check validates and fills defaults. Checks that need the scenario and policy libraries
// (do the named scenarios exist?) are done by the engine, which knows them; see Locate.
func (e *Experiment) check(doc *yamlx.Doc) error {
	// Every independent problem is reported (yamlx.List); a check that needs a value an
	// earlier one found wrong is skipped.
	l := yamlx.NewList(e.File)
	switch {
	case !e.decoded("name"):
	case e.Name == "":
		l.Add(doc.Errorf("name", "required: a short name for the experiment, e.g. study1"))
	case !ValidName(e.Name):
		l.Add(doc.Errorf("name", "%s (it names the run directory)", BadName(e.Name)))
	}
	// Which studies exist is the study registry's business (internal/study): the engine
	// checks the name against it, with this file's line.
	switch {
	case !e.decoded("study"):
	case e.Study == "":
		l.Add(doc.Errorf("study", "required: one of vignettes, tpp, network, games (or a study of your own)"))
	case !nameRE.MatchString(e.Study):
		l.Add(doc.Errorf("study", "%q is not a study name", e.Study))
	}
	if e.Seed == nil {
		s := uint64(time.Now().UnixNano())
		e.Seed = &s
	}
	if e.Replicates == 0 {
		var r any
		if found, _ := doc.DecodeAt("replicates", &r); found && e.decoded("replicates") {
			// Written as 0 (or empty): an explicit 0 used to become 1 without a word.
			l.Add(doc.Errorf("replicates", "%v is out of range 1..10000 (leave it out for 1)", r))
		}
		e.Replicates = 1
	}
	if e.Replicates < 0 || e.Replicates > 10000 {
		l.Add(doc.Errorf("replicates", "%d is out of range 1..10000", e.Replicates))
	}
	// popChecked: the population's checks found no problem, its values of the wrong type
	// (left out) aside.
	popChecked := !l.Add(e.Population.check(doc, e.Dir, e.decoded))
	popOK := popChecked && e.decoded("population")
	e.popOK = popOK
	if popOK && e.Population.Source == "sample" && e.Population.Seed == nil {
		s := seed.Derive(*e.Seed, "population") // the population of every run before population.seed existed
		e.Population.Seed = &s
	}
	for i, f := range e.ScenarioFiles {
		if !e.decodedEntry("scenario_files", i) {
			continue // not the experiment's directory, which "" resolves to
		}
		e.ScenarioFiles[i] = resolve(e.Dir, f)
		if _, err := os.Stat(e.ScenarioFiles[i]); err != nil {
			l.Add(doc.Errorf(fmt.Sprintf("scenario_files[%d]", i), "cannot read %s: %v", e.ScenarioFiles[i], unwrapPathErr(err)))
		}
	}
	for i, f := range e.PolicyFiles {
		if !e.decodedEntry("policy_files", i) {
			continue
		}
		e.PolicyFiles[i] = resolve(e.Dir, f)
		if _, err := os.Stat(e.PolicyFiles[i]); err != nil {
			l.Add(doc.Errorf(fmt.Sprintf("policy_files[%d]", i), "cannot read %s: %v", e.PolicyFiles[i], unwrapPathErr(err)))
		}
	}
	first := make(map[string]int, min(len(e.Scenarios), 1024))
	for i, s := range e.Scenarios {
		if l.Enough() {
			break
		}
		if !e.decodedEntry("scenarios", i) {
			continue
		}
		if j, twice := first[s]; twice {
			l.Add(doc.Errorf(fmt.Sprintf("scenarios[%d]", i), "scenario %q is listed twice (also scenarios[%d])", s, j))
		} else {
			first[s] = i
		}
	}
	if len(e.Conditions) == 0 {
		e.Conditions = []Condition{{Name: "none", Policy: "none"}}
	}
	seen := map[string]bool{}
	// The contrasts and the study's block read every condition: condsChecked says the
	// conditions' checks found no problem, their values of the wrong type aside.
	condsChecked := true
	for i := range e.Conditions {
		c := &e.Conditions[i]
		p := fmt.Sprintf("conditions[%d]", i)
		nameOK, policyOK := e.decoded(p+".name"), e.decoded(p+".policy")
		if c.Policy == "" && policyOK {
			l.Add(doc.Errorf(p+".policy", "required: a policy frame id such as none, moral, social, enforce or economic"))
			condsChecked = false
		}
		if c.Name == "" && nameOK {
			c.Name = c.Policy
		}
		switch {
		case c.Name == "":
		case !ValidName(c.Name):
			l.Add(doc.Errorf(p+".name", "%s", BadName(c.Name)))
			condsChecked = false
		case seen[c.Name]:
			l.Add(doc.Errorf(p+".name", "condition name %q is used twice", c.Name))
			condsChecked = false
		}
		seen[c.Name] = true
	}
	condsOK := condsChecked && e.decoded("conditions")
	// Contrasts name conditions: checked against them when the conditions are sound.
	for i, c := range e.Contrasts {
		if !condsOK {
			break
		}
		p := fmt.Sprintf("contrasts[%d]", i)
		if !e.decoded(p) {
			continue
		}
		named := true
		for _, f := range []struct{ name, v string }{{"condition", c.Condition}, {"against", c.Against}} {
			switch {
			case f.v == "":
				l.Add(doc.Errorf(p+"."+f.name, "required: a condition name (one of %s)", condNames(e.Conditions)))
				named = false
			case !seen[f.v]:
				l.Add(doc.Errorf(p+"."+f.name, "unknown condition %q (want one of %s)", f.v, condNames(e.Conditions)))
				named = false
			}
		}
		switch {
		case !named:
		case c.Condition == c.Against:
			l.Add(doc.Errorf(p+".against", "a condition compared with itself (%q)", c.Against))
		case slices.Index(e.Contrasts[:i], c) >= 0:
			l.Add(doc.Errorf(p, "the same contrast as contrasts[%d]", slices.Index(e.Contrasts[:i], c)))
		}
	}
	// The study's block reads the population and the conditions (a network's size, the
	// inequity conditions' controls): it is checked once their checks find no problem. Beside
	// their values of the wrong type it is checked too, so that its problems and its input
	// files' come in the same pass: a check of it that reads one of those asks Decoded.
	if condsChecked && popChecked && e.decoded("study") && e.decoded("scenarios") {
		l.Add(e.checkBlocks(doc))
	}
	switch e.Prompt.Mode {
	case "":
		e.Prompt.Mode = "separate"
	case "separate":
	case "joint": // whether the study puts several scenarios in one prompt is its own check
	default:
		l.Add(doc.Errorf("prompt.mode", "unknown mode %q (want separate or joint)", e.Prompt.Mode))
	}
	if e.decoded("factors") {
		l.Add(e.Factors.check(doc))
	}
	if e.Prompt.Mode == "joint" && len(e.Factors.Prompt) > 0 {
		l.Add(doc.Errorf("factors.prompt", "the prompt factor sets the prompt mode: leave prompt.mode out"))
	}
	if e.Backend != nil && len(e.Backends) > 0 {
		l.Add(doc.Errorf("backend", "give either backend or backends, not both"))
	} else {
		// The labels are compared once every backend is sound.
		backendsOK := e.decoded("backend") && e.decoded("backends")
		if e.Backend != nil {
			e.Backends = []Backend{*e.Backend}
			e.Backend = nil
			if l.Add(e.Backends[0].check(doc, "backend", e.decoded)) {
				backendsOK = false
			}
		} else {
			for i := range e.Backends {
				if l.Add(e.Backends[i].check(doc, fmt.Sprintf("backends[%d]", i), e.decoded)) {
					backendsOK = false
				}
			}
		}
		if len(e.Backends) == 0 {
			e.Backends = []Backend{{Provider: "builtin"}}
		}
		labels := map[string]bool{}
		for i, b := range e.Backends {
			if !backendsOK {
				break
			}
			lb := b.LabelOrDefault()
			if labels[lb] {
				l.Add(doc.Errorf(fmt.Sprintf("backends[%d]", i), "two backends are both labelled %q: give one a label", lb))
			}
			labels[lb] = true
		}
	}
	if e.Concurrency == 0 {
		e.Concurrency = 8
	}
	if e.Concurrency < 1 || e.Concurrency > 4096 {
		l.Add(doc.Errorf("concurrency", "%d is out of range 1..4096", e.Concurrency))
	}
	if e.MaxRepairs == nil {
		two := 2
		e.MaxRepairs = &two
	}
	if *e.MaxRepairs < 0 || *e.MaxRepairs > 10 {
		l.Add(doc.Errorf("max_repairs", "%d is out of range 0..10", *e.MaxRepairs))
	}
	if e.OnError != "" && e.OnError != "record" && e.OnError != "stop" {
		l.Add(doc.Errorf("on_error", "%q: want record or stop", e.OnError))
	}
	if e.Cache != "" && e.Cache != "off" && e.Cache != CacheNATS {
		e.Cache = resolve(e.Dir, e.Cache)
	}
	for _, m := range slices.Sorted(maps.Keys(e.Prices)) {
		if p := e.Prices[m]; p.Input < 0 || p.Output < 0 {
			l.Add(doc.Errorf("prices."+m, "prices must be >= 0 (USD per million tokens)"))
		}
	}
	if e.Budget != nil && !(e.Budget.USD > 0) && e.decoded("budget") {
		l.Add(doc.Errorf("budget.usd", "want a positive amount of US dollars, e.g. budget: {usd: 20}"))
	}
	switch e.Execution.Mode {
	case "", "sync", "batch": // "" is sync, left out of the resolved config
	default:
		l.Add(doc.Errorf("execution.mode", "unknown mode %q (want sync or batch)", e.Execution.Mode))
	}
	if e.Execution.Mode == "batch" && e.Execution.Poll == 0 {
		e.Execution.Poll = Duration(30 * time.Second)
	}
	if e.Execution.Mode == "sync" && e.Execution.Poll != 0 {
		l.Add(doc.Errorf("execution.poll", "only for mode: batch (or prosim run --batch)"))
	}
	if e.Execution.NATS != "" {
		if err := CheckBrokerURL(e.Execution.NATS); err != nil {
			l.Add(doc.Errorf("execution.nats", "%v", err))
		}
		if e.Execution.Mode == "batch" {
			l.Add(doc.Errorf("execution.mode", "batch mode goes to the provider's batch API from this process; it cannot be combined with execution.nats"))
		}
	}
	return l.Err()
}

// check checks the population block; decoded says which fields of the file were decoded (nil:
// all): a check that reads one that was not is skipped.
func (p *Population) check(doc *yamlx.Doc, dir string, decoded func(path string) bool) error {
	if decoded == nil {
		decoded = func(string) bool { return true }
	}
	if !decoded("population.source") {
		return nil // every check reads the source
	}
	l := yamlx.NewList(doc.Name())
	// Each check reads the source and one other field.
	// (A seed left out reads as not given, which no check refuses; an n too, but for sample.)
	n, file, currency := decoded("population.n"), decoded("population.file"), decoded("population.currency")
	written := p.Currency
	p.Currency = persona.TrimCurrency(p.Currency) // as a population file's currency is kept
	switch p.Source {
	case "":
		l.Add(doc.Errorf("population.source", "required: sample, prosim104 or file"))
	case "sample":
		if (p.N < 1 || p.N > 10_000_000) && n {
			l.Add(doc.Errorf("population.n", "required for source sample: a number of agents from 1 to 10000000 (got %d)", p.N))
		}
		if p.File != "" {
			l.Add(doc.Errorf("population.file", "only for source: file"))
		}
	case "prosim104":
		if p.Seed != nil {
			l.Add(doc.Errorf("population.seed", "only for source: sample (the prosim104 agents are fixed)"))
		}
		if p.N != 0 && p.N != 104 {
			l.Add(doc.Errorf("population.n", "the prosim104 population has 104 agents; leave n out"))
		}
		if p.File != "" {
			l.Add(doc.Errorf("population.file", "only for source: file"))
		}
	case "file":
		if p.File == "" && file {
			l.Add(doc.Errorf("population.file", "required for source file: a .csv, .json or .jsonl persona file"))
		} else if p.File != "" {
			p.File = resolve(dir, p.File)
			if _, err := os.Stat(p.File); err != nil {
				l.Add(doc.Errorf("population.file", "cannot read %s: %v", p.File, unwrapPathErr(err)))
			}
		}
		if p.N != 0 {
			l.Add(doc.Errorf("population.n", "not used with source file (every persona in the file is used)"))
		}
		if p.Seed != nil {
			l.Add(doc.Errorf("population.seed", "only for source: sample (a file's personas are not sampled)"))
		}
	default:
		l.Add(doc.Errorf("population.source", "unknown source %q (want sample, prosim104 or file)", p.Source))
	}
	// A currency that reads as missing (NA, empty) would be shown in texts as it is ("a
	// stipend of 100 NA") and, written empty, be replaced by yuan without a word.
	missingCurrency := doc.Has("population.currency") && currency && persona.CurrencyMissing(p.Currency)
	if missingCurrency {
		l.Add(doc.Errorf("population.currency", "%q reads as a missing value (as R's read.csv and pandas' read_csv read it): name the currency texts show ({{.currency}}), e.g. EUR, or leave population.currency out", written)) // as written: "  " is not ""
	}
	// A sampled or prosim104 person's income is a Chinese one, in yuan: another currency would
	// label yuan figures euro. Refused here, with the file's other problems.
	if (p.Source == "sample" || p.Source == "prosim104") && !missingCurrency {
		if strings.EqualFold(p.Currency, "yuan") {
			p.Currency = "yuan" // as the personas' texts write it
		} else if p.Currency != "" {
			incomes := "a sampled population's incomes are China's 2023 per-capita income quintiles, in yuan"
			if p.Source == "prosim104" {
				incomes = "the prosim104 agents' incomes are in yuan"
			}
			l.Add(doc.Errorf("population.currency", "%q: %s; leave population.currency out or write yuan (for incomes in another currency, use source: file, see docs/population.md)", p.Currency, incomes))
		}
	}
	if p.Currency == "" {
		p.Currency = "yuan"
	}
	return l.Err()
}

// HoldsKey says that an api_key_env holds a key (or NAME=key) rather than naming a variable:
// it is refused, and never echoed as a variable's name.
func HoldsKey(apiKeyEnv string) bool {
	return strings.Contains(apiKeyEnv, "=") || strings.HasPrefix(apiKeyEnv, "sk-")
}

// Providers prosim knows (internal/provider is the one list).
var Providers = provider.Names()

// check checks the backend at path; decoded says which of its fields were decoded from the file
// (nil: all), those that were not are not read.
func (b *Backend) check(doc *yamlx.Doc, path string, decoded func(path string) bool) error {
	if decoded == nil {
		decoded = func(string) bool { return true }
	}
	if !decoded(path + ".provider") {
		return nil // what else a backend may set depends on its provider
	}
	if b.Provider == "" {
		return doc.Errorf(path+".provider", "required: one of %s", strings.Join(Providers, ", "))
	}
	if !slices.Contains(Providers, b.Provider) {
		// What else a backend may set depends on its provider.
		return doc.Errorf(path+".provider", "unknown provider %q (want one of %s)", b.Provider, strings.Join(Providers, ", "))
	}
	l := yamlx.NewList(doc.Name())
	// Results say a backend is the behavioural model, not an LLM, by its label.
	label := b.LabelOrDefault()
	if !decoded(path+".label") || !decoded(path+".model") {
		// The label is the file's or made of the model.
	} else if reserved := label == "builtin" || strings.HasPrefix(label, "builtin-"); b.Provider == "builtin" && (!reserved || label == "builtin-baseline") {
		l.Add(doc.Errorf(path+".label", "%q: a builtin backend's label is builtin or begins with builtin- (not builtin-baseline, the scorecard's), so that results name it as the behavioural model", label))
	} else if b.Provider != "builtin" && reserved {
		l.Add(doc.Errorf(path+".label", "%q: the labels builtin and builtin-... name the behavioural model; give this %s backend another", label, b.Provider))
	} else if table.ReadAsMissing(label) {
		l.Add(doc.Errorf(path+".label", "%s", BadName(label)))
	}
	if b.Provider == "builtin" {
		// The behavioural model is no LLM and calls no server (no cache, limits or retries:
		// see engine.buildBackend): a setting of either would be ignored.
		for _, f := range []struct {
			key   string
			given bool
		}{
			{"model", b.Model != ""}, {"base_url", b.BaseURL != ""}, {"endpoints", len(b.Endpoints) > 0}, {"api_key_env", b.APIKeyEnv != ""},
			{"temperature", b.Temperature != nil}, {"top_p", b.TopP != nil}, {"max_tokens", b.MaxTokens != 0},
			{"max_concurrency", b.MaxConcurrency != 0}, {"rpm", b.RPM != 0}, {"tpm", b.TPM != 0}, {"timeout", b.Timeout != 0}, {"max_attempts", b.MaxAttempts != 0},
			{"structured_output", b.StructuredOutput != ""}, {"max_tokens_field", b.MaxTokensField != ""}, {"seed", b.Seed != ""}, {"n", b.N != ""},
			{"connect_timeout", b.ConnectTimeout != 0}, {"first_byte_timeout", b.FirstByteTimeout != 0}, {"adaptive_concurrency", b.AdaptiveConcurrency != ""},
			{"max_retry_after", b.MaxRetryAfter != 0}, {"max_reply", b.MaxReply != 0}, {"extra_body", len(b.ExtraBody) > 0},
		} {
			if f.given {
				l.Add(doc.Errorf(path+"."+f.key, "the builtin behavioural model takes no %s (it is no LLM and calls no server)", f.key))
			}
		}
		return l.Err()
	}
	if b.Model == "" && decoded(path+".model") {
		l.Add(doc.Errorf(path+".model", "required for provider %s", b.Provider))
	}
	if info, _ := provider.Lookup(b.Provider); b.Temperature != nil && !(*b.Temperature >= 0 && *b.Temperature <= info.MaxTemperature) {
		l.Add(doc.Errorf(path+".temperature", "%g is out of range 0..%g (provider %s)", *b.Temperature, info.MaxTemperature, b.Provider))
	}
	if b.TopP != nil && (*b.TopP <= 0 || *b.TopP > 1) {
		l.Add(doc.Errorf(path+".top_p", "%g is out of range (0, 1]", *b.TopP))
	}
	if b.MaxTokens < 0 {
		l.Add(doc.Errorf(path+".max_tokens", "must be >= 0"))
	}
	if b.MaxConcurrency < 0 || b.RPM < 0 || b.TPM < 0 || b.MaxAttempts < 0 {
		l.Add(doc.Errorf(path, "max_concurrency, rpm, tpm and max_attempts must be >= 0"))
	}
	if b.BaseURL != "" && len(b.Endpoints) > 0 {
		l.Add(doc.Errorf(path+".endpoints", "give either base_url or endpoints, not both"))
	}
	for i, u := range append([]string{b.BaseURL}, b.Endpoints...) {
		if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			f := path + ".base_url"
			if i > 0 {
				f = fmt.Sprintf("%s.endpoints[%d]", path, i-1)
			}
			l.Add(doc.Errorf(f, "%q is not an http:// or https:// URL", u))
		}
	}
	proto := provider.Protocol(b.Provider)
	switch b.StructuredOutput {
	case "", "auto", "json_schema", "off":
	case "json_object":
		if proto != "openai" {
			l.Add(doc.Errorf(path+".structured_output", "json_object is for OpenAI-compatible servers; %s takes auto, json_schema or off", b.Provider))
		}
	default:
		l.Add(doc.Errorf(path+".structured_output", "%q: want auto, json_schema, json_object or off", b.StructuredOutput))
	}
	switch b.MaxTokensField {
	case "":
	case "max_tokens", "max_completion_tokens":
		if proto != "openai" {
			l.Add(doc.Errorf(path+".max_tokens_field", "only OpenAI-compatible servers take max_tokens_field (%s's field is fixed)", b.Provider))
		}
	default:
		l.Add(doc.Errorf(path+".max_tokens_field", "%q: want max_tokens or max_completion_tokens", b.MaxTokensField))
	}
	switch b.Seed {
	case "", "off":
	case "on":
		if proto == "anthropic" {
			l.Add(doc.Errorf(path+".seed", "Anthropic's API has no seed: remove seed or set it to off"))
		}
	default:
		l.Add(doc.Errorf(path+".seed", "%q: want on or off", b.Seed))
	}
	switch b.N {
	case "", "off":
	case "auto":
		if proto != "openai" { // only OpenAI-compatible clients ask for several samples in a call
			l.Add(doc.Errorf(path+".n", "%s's API takes no n (one sample a call): remove n or set it to off", b.Provider))
		}
	default:
		l.Add(doc.Errorf(path+".n", "%q: want auto or off", b.N))
	}
	switch b.AdaptiveConcurrency {
	case "", "auto", "on", "off":
	default:
		l.Add(doc.Errorf(path+".adaptive_concurrency", "%q: want auto, on or off", b.AdaptiveConcurrency))
	}
	if b.MaxRetryAfter < 0 {
		l.Add(doc.Errorf(path+".max_retry_after", "must be >= 0"))
	}
	if b.MaxReply != 0 && (b.MaxReply < 1024 || b.MaxReply > LimitMaxReply) {
		l.Add(doc.Errorf(path+".max_reply", "%s is out of range %s..%s", b.MaxReply, Size(1<<10), LimitMaxReply))
	}
	if b.ConnectTimeout < 0 || b.Timeout < 0 || b.FirstByteTimeout < 0 {
		l.Add(doc.Errorf(path, "timeout, connect_timeout and first_byte_timeout must be >= 0"))
	}
	if b.FirstByteTimeout != 0 && provider.Protocol(b.Provider) != "openai" {
		l.Add(doc.Errorf(path+".first_byte_timeout", "streams the reply, which prosim does for OpenAI-compatible servers only (not %s)", b.Provider))
	}
	if b.ConnectTimeout != 0 && b.Timeout != 0 && b.ConnectTimeout > b.Timeout {
		l.Add(doc.Errorf(path+".connect_timeout", "%v is longer than timeout %v, which bounds the whole call", time.Duration(b.ConnectTimeout), time.Duration(b.Timeout)))
	}
	l.Add(b.checkExtraBody(doc, path))
	if HoldsKey(b.APIKeyEnv) {
		l.Add(doc.Errorf(path+".api_key_env", "give the NAME of an environment variable holding the key, never the key itself"))
	}
	return l.Err()
}

func resolve(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func condNames(cs []Condition) string {
	var n []string
	for _, c := range cs {
		n = append(n, c.Name)
	}
	return strings.Join(n, ", ")
}

// Locator points at fields of an experiment file for checks made after loading (unknown
// scenario ids, unknown policies), so those errors too carry a line. The file as
// LoadChecking parsed it is handed over, once (the experiment keeps no parse after that): a
// large file is parsed once. Otherwise the file is read and parsed.
func Locator(e *Experiment) *yamlx.Doc {
	if d := e.doc; d != nil && d.Name() == e.File {
		e.doc = nil
		return d
	}
	data, err := yamlx.ReadFile(e.File)
	if err != nil {
		return nil
	}
	d, err := yamlx.Parse(data, e.File)
	if err != nil {
		return nil
	}
	return d
}

// Resolved is the experiment as run: every default filled in, written to the run directory.
func (e *Experiment) Resolved() ([]byte, error) {
	out, err := yaml.MarshalWithOptions(e, yaml.Indent(2), yaml.IndentSequence(true))
	if err != nil {
		return nil, err
	}
	blk, err := e.marshalBlock()
	return append(out, blk...), err
}
