package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

//go:generate go run ./internal/schemagen -o ../../docs/config.schema.json

// Load reads, decodes, defaults and validates the config file at path. Problems in the file come
// back together as *Errors; a file that cannot be read is a plain error.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes data (named name in errors), applies the defaults and validates the result. Every
// problem found is reported, as *Errors sorted by line.
func Parse(name string, data []byte) (*Config, error) {
	errs := &Errors{}
	d := &decoder{file: name, errs: errs, pos: map[string]position{}}
	root, err := parseYAML(data)
	if err != nil {
		errs.add(syntaxError(name, err))
		return nil, errs.err()
	}
	cfg := &Config{}
	if root != nil {
		d.decode(root, reflect.ValueOf(cfg).Elem(), "")
	}
	cfg.SetDefaults()
	validate(cfg, d)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Validate checks a Config built in code (the demo's, a test's) by the same rules as Parse. Call
// SetDefaults first: zero values read as "not set". Errors carry field paths but no lines.
func (c *Config) Validate() error {
	errs := &Errors{}
	validate(c, &decoder{errs: errs, pos: map[string]position{}})
	return errs.err()
}

// parseYAML returns the root node of the single document in data, or nil for an empty file.
func parseYAML(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("yaml: line %d: the file holds more than one YAML document; want one", extra.Line)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return &doc, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns yaml.v3's "yaml: line N: msg" into an Error on line N.
func syntaxError(file string, err error) Error {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Error{File: file, Line: line, Message: "invalid YAML: " + m[2]}
	}
	return Error{File: file, Message: "invalid YAML: " + err.Error()}
}
