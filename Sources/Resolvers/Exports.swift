@_exported import EvergreenHub
