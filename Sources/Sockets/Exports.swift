// `import Sockets` gives a user the hub, the wait API, the resolvers and sockets.
@_exported import EvergreenHub
@_exported import Resolvers
