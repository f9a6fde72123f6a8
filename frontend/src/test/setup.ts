import { cleanup, configure } from '@testing-library/react'
import { afterEach } from 'vitest'

// Testing Library unmounts after each test by itself only when the test API is global.
afterEach(cleanup)

// findBy* and waitFor wait for a condition, not a time: 1 s (the default) is how long they wait
// before failing, which a loaded 2-core CI machine overran (App: the sign-in form after a 401
// rendered at 1.06 s). 5 s fails as surely, only later.
configure({ asyncUtilTimeout: 5000 })
