export class StoreVersionError extends Error {
  static readonly NAME = 'StoreVersionError'
  override name = StoreVersionError.NAME
}

export class InvalidPathError extends Error {
  static readonly NAME = 'InvalidPathError'
  override name = InvalidPathError.NAME
}
