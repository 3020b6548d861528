package k8srbacauthextension

import (
	"context"

	"go.opentelemetry.io/collector/client"
)

// authData exposes the authenticated identity to later components through client.Info.
type authData struct {
	username string
	uid      string
	groups   []string
}

var _ client.AuthData = authData{}

func (d authData) GetAttribute(name string) any {
	switch name {
	case "username", "subject":
		return d.username
	case "uid":
		return d.uid
	case "groups":
		return d.groups
	}
	return nil
}

func (authData) GetAttributeNames() []string { return []string{"username", "subject", "uid", "groups"} }

func withAuthData(ctx context.Context, res result) context.Context {
	info := client.FromContext(ctx)
	info.Auth = authData{username: res.user.Username, uid: res.user.UID, groups: res.user.Groups}
	return client.NewContext(ctx, info)
}
