"""Departure planning and session cost, free of Home Assistant: prices, plans, plans as charging profiles, cost.

Plain functions over timestamps, fed by the glue with what sensors and actions say; nothing here waits or sends.

- `prices`: price forecasts in the formats integrations publish (Nord Pool, ENTSO-e, Tibber, Energi Data Service,
  a generic list, action response data) and solar forecasts, as slots; `PriceFormatError` says what was expected.
- `plan`: the cheapest slots that deliver the energy by departure within the EVSE's currents and phases, solar
  first, a buffer before departure; a plan that cannot meet the target charges what it can and says so.
- `schedule`: a plan as merged periods that fit the station's PeriodsPerSchedule, as an Absolute charging profile,
  and the station's composite schedule compared with it.
- `cost`: a session's cost integrated from the price per slot and the energy metered in it.
"""
