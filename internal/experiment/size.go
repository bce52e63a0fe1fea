package experiment

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
)

// Size is a number of bytes, written in an experiment file as a whole number of bytes or with
// a unit: 512KB, 1MB, 2 MiB (KB and MB are 1024 and 1024x1024 bytes, as KiB and MiB).
type Size int64

// UnmarshalYAML reads a size such as 1048576, 512KB or 1MB.
func (s *Size) UnmarshalYAML(b []byte) error {
	var n int64
	if err := yaml.Unmarshal(b, &n); err == nil {
		if n < 0 {
			return fmt.Errorf("%d: a size must be >= 0", n)
		}
		*s = Size(n)
		return nil
	}
	var str string
	if err := yaml.Unmarshal(b, &str); err != nil {
		return fmt.Errorf("expected a size such as 1MiB or 512KiB (KB and MB are read as KiB and MiB)")
	}
	v, err := ParseSize(str)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSize reads a size such as 1048576, 512KB or 1MB.
func ParseSize(str string) (Size, error) {
	t := strings.ToUpper(strings.TrimSpace(str))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"K", 1 << 10}, {"M", 1 << 20}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("%q is not a size such as 1MiB or 512KiB (KB and MB are read as KiB and MiB)", str)
	}
	return Size(n * mult), nil
}

// String writes the size in the largest unit that divides it (1MiB, 512KiB, 1000): the
// binary units' own names, which a file may use too, since "MB" also means 10^6 bytes.
func (s Size) String() string {
	switch {
	case s != 0 && s%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", s>>20)
	case s != 0 && s%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", s>>10)
	}
	return strconv.FormatInt(int64(s), 10)
}

// MarshalYAML writes the size as String does.
func (s Size) MarshalYAML() (any, error) { return s.String(), nil }
