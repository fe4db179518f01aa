package config_test

import (
	"testing"

	"github.com/adofleet/adofleet/internal/config"
)

func TestEC2ProviderValidate(t *testing.T) {
	t.Parallel()
	valid := func() config.EC2Provider {
		return config.EC2Provider{
			LaunchTemplate: config.EC2LaunchTemplate{ID: "lt-0123abcd", Version: "$Latest"},
			InstanceTypes:  []string{"m5.large", "m5a.large"}, Subnets: []string{"subnet-0a1b"}, Spot: true,
		}
	}
	tests := []validateCase[config.EC2Provider]{
		{"valid", func(*config.EC2Provider) {}, nil},
		{"valid asg", func(p *config.EC2Provider) { *p = config.EC2Provider{Mode: "asg", AutoScalingGroup: "agents"} }, nil},
		{"no template", func(p *config.EC2Provider) { p.LaunchTemplate = config.EC2LaunchTemplate{} }, []string{"providers.ec2.launchTemplate"}},
		{"id and name", func(p *config.EC2Provider) { p.LaunchTemplate.Name = "agents" }, []string{"providers.ec2.launchTemplate"}},
		{"bad id and version", func(p *config.EC2Provider) { p.LaunchTemplate.ID, p.LaunchTemplate.Version = "agents", "latest" },
			[]string{"providers.ec2.launchTemplate.id", "providers.ec2.launchTemplate.version"}},
		{"bad subnet", func(p *config.EC2Provider) { p.Subnets = []string{"subnet-0a1b", "sn-1"} }, []string{"providers.ec2.subnets[1]"}},
		{"asg without group", func(p *config.EC2Provider) { *p = config.EC2Provider{Mode: "asg"} }, []string{"providers.ec2.autoScalingGroup"}},
		{"asg with overrides", func(p *config.EC2Provider) { p.Mode, p.AutoScalingGroup = "asg", "agents" }, []string{"providers.ec2.mode"}},
		{"unknown mode", func(p *config.EC2Provider) { p.Mode = "fleet" }, []string{"providers.ec2.mode"}},
	}
	testValidate(t, valid, (*config.EC2Provider).Validate, "providers.ec2", tests, nil)
}
