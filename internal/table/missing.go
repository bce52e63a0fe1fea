package table

import (
	"fmt"
	"regexp"
)

// missingCells are the cells R's read.csv (na.strings "NA") and pandas' read_csv (its default
// na_values, pandas 2) read as a missing value rather than as the text.
var missingCells = map[string]bool{
	"": true, "NA": true, "N/A": true, "n/a": true, "<NA>": true, "#NA": true, "#N/A": true, "#N/A N/A": true,
	"NULL": true, "null": true, "NaN": true, "-NaN": true, "nan": true, "-nan": true, "None": true,
	"1.#IND": true, "-1.#IND": true, "1.#QNAN": true, "-1.#QNAN": true,
}

// ReadAsMissing says whether R or pandas read the cell s as a missing value: a name that lands
// in a results CSV (a condition, a backend label, a scenario id) must not be one, or its rows
// lose it (two such conditions even merge).
func ReadAsMissing(s string) bool { return missingCells[s] }

// MissingReason is why a name ReadAsMissing refuses cannot be used, for a message.
const MissingReason = "R's read.csv and pandas' read_csv read it as a missing value in the results CSVs: choose another name"

// idRE is the form of the id of a scenario, a variant or a policy frame.
var idRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// IDShaped says whether s has the form of an id of a scenario, a variant or a policy frame:
// lower case letters, digits, '-' or '_', starting with a letter.
func IDShaped(s string) bool { return idRE.MatchString(s) }

// IDProblem is what is wrong with id as the id of a scenario, a variant or a policy frame, after
// the word "id" in a message ("" if nothing): ids name the rows of results CSVs, so a word R or
// pandas read as missing is refused as well as a malformed one.
func IDProblem(id string) string {
	switch {
	case !IDShaped(id):
		return fmt.Sprintf("%q must be lower case letters, digits, '-' or '_', starting with a letter", id)
	case ReadAsMissing(id):
		return fmt.Sprintf("%q: %s", id, MissingReason)
	}
	return ""
}
