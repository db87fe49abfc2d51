// SingleFlight moved to @diststream/util; re-exported for the edge's users.
export { SingleFlight } from '@diststream/util'
