package main

import (
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

// loadConfigFile reads a pod or container config in JSON or YAML, the
// same files crictl takes.
func loadConfigFile(path string, into any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
