/// The resolver that socket calls use for names when none is passed in:
/// the hub's own (`hub.resolver`), as gevent's `connect` uses the hub's.
func hubResolver(_ hub: Hub) throws -> any Resolver {
    hub.resolver
}
