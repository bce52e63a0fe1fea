package table

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
