// The dashboard's typed error: a code for programs, and the HTTP status of the response it becomes.
export type DashboardErrorCode = 'UNAUTHENTICATED' | 'NOT_FOUND' | 'BAD_REQUEST' | 'BAD_OPTIONS' | 'FORBIDDEN_HOST';

const HTTP_STATUS: Record<DashboardErrorCode, number> = {
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  BAD_REQUEST: 400,
  BAD_OPTIONS: 500,
  // Misdirected request: the Host header names a site this server is not (a DNS-rebinding page).
  FORBIDDEN_HOST: 421,
};

export class DashboardError extends Error {
  override readonly name = 'DashboardError';
  constructor(
    readonly code: DashboardErrorCode,
    message: string,
  ) {
    super(message);
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.code];
  }
}
