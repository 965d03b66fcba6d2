package local

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	yamlv2 "go.yaml.in/yaml/v2"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// decodeYAML reads one YAML document into the value that decoding, with
// k8s.io/apimachinery's json.Unmarshal, the JSON that sigs.k8s.io/yaml.YAMLToJSONStrict
// makes of it gives: maps of strings, slices, strings, int64, float64, bools and nil,
// as the API server sees a document kubectl sends. It takes one pass over the parsed
// YAML instead of writing JSON text and parsing it back, which was a third of the time
// a folder of 13,000 DistrictSources took to load. An error means the caller should
// convert the document the slow way for the error's words (see Loader.decode).
func decodeYAML(text []byte) (any, error) {
	var y any
	if err := yamlv2.UnmarshalStrict(text, &y); err != nil {
		return nil, err
	}
	return jsonValue(y)
}

// jsonValue converts a value yaml.v2 decoded into interface{}.
func jsonValue(v any) (any, error) {
	switch v := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			key, err := jsonKey(k)
			if err != nil {
				return nil, err
			}
			if m[key], err = jsonValue(e); err != nil {
				return nil, err
			}
		}
		return m, nil
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			var err error
			if s[i], err = jsonValue(e); err != nil {
				return nil, err
			}
		}
		return s, nil
	case nil, bool:
		return v, nil
	case string:
		if !utf8.ValidString(v) {
			return roundTrip(v) // json.Marshal replaces each bad byte
		}
		return v, nil
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v), nil
		}
		return float64(v), nil
	case float64, time.Time:
		// Whole floats come back as int64 ("1.0" is written 1), others as float64;
		// NaN and the infinities are refused, as json.Marshal refuses them.
		return roundTrip(v)
	default:
		return nil, fmt.Errorf("unsupported YAML value of type %T", v)
	}
}

// jsonKey is the string sigs.k8s.io/yaml makes of a map key.
func jsonKey(k any) (string, error) {
	switch k := k.(type) {
	case string:
		return k, nil
	case int:
		return strconv.Itoa(k), nil
	case int64:
		return strconv.FormatInt(k, 10), nil
	case float64:
		switch s := strconv.FormatFloat(k, 'g', -1, 32); s {
		case "+Inf":
			return ".inf", nil
		case "-Inf":
			return "-.inf", nil
		case "NaN":
			return ".nan", nil
		default:
			return s, nil
		}
	case bool:
		return strconv.FormatBool(k), nil
	default:
		return "", fmt.Errorf("unsupported map key of type %T", k)
	}
}

// roundTrip writes v as JSON and reads it back, for the rare values whose conversion
// is json's own.
func roundTrip(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := utiljson.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}
