"""Column numbers of the kernel's state arrays, and its integer codes.

numba compiles module-level ints as constants, so a named column costs nothing at run
time while keeping ``orders_i[k, O_LOTS]`` readable. Every table is a 2-D array: one
int64 and one float64 array per table, a row per order, deal, fill or deal record.
"""

from __future__ import annotations

# Order kinds (side + type); their fill-priority class is KIND_CLASS below.
K_MARKET_BUY = 0
K_MARKET_SELL = 1
K_STOP_SELL = 2
K_LIMIT_SELL = 3
K_LIMIT_BUY = 4

# Purposes, in the order of PURPOSES in ``result`` (domain.OrderPurpose values).
P_BASE = 0
P_SAFETY = 1
P_ADD = 2
P_TAKE_PROFIT = 3
P_STOP = 4
P_EXIT = 5
P_GRID_BUY = 6
P_GRID_SELL = 7

# Close reasons, in the order of CLOSE_REASONS in ``result``.
CR_TAKE_PROFIT = 0
CR_TRAILING = 1
CR_STOP_LOSS = 2
CR_SIGNAL = 3
CR_GRID = 4

SIDE_BUY = 0
SIDE_SELL = 1

NO_TIME = -(2**62)  # a candle time no candle has

# Orders: int columns.
O_ALIVE = 0
O_DEAL = 1  # deal slot
O_KIND = 2
O_PURPOSE = 3
O_LOTS = 4  # base amount in base increments
O_TICKS = 5  # limit / trigger price in price increments
O_ACTIVE = 6  # first candle time the order may fill on
O_NUMBER = 7  # the deal's order counter after placing it (client order id)
O_LEVEL = 8  # grid: price level of the order
O_CYCLE = 9  # grid: buy cycle of the deal's level
N_OI = 10
# Orders: float columns.
OF_PRICE = 0  # limit / trigger price
OF_QUOTE = 1  # quote of a market buy
OF_RESERVE = 2  # quote held back from the budget while the order works
N_OF = 3

# Deals (one row per slot): int columns.
D_ALIVE = 0
D_SEQ = 1
D_OPENED = 2
D_LOTS = 3  # held now
D_BOUGHT = 4  # lots bought in all
D_ORDER_SEQ = 5
D_SAFETY = 6  # safety orders filled
D_ADDS = 7
D_TP = 8  # take profit / trailing activation, ticks; -1 = none
D_STOP = 9  # trigger the deal's stop should have, ticks; -1 = none
D_TRAILING = 10
D_MARKETS = 11  # working market orders
D_BUYS = 12  # working buy orders
D_LEVEL = 13
D_CYCLE = 14
D_RECORD = 15  # row of the deal in the record table
D_LIMIT_FILL = 16  # candle time of the deal's latest limit buy fill; NO_TIME = none
N_DI = 17
# Deals: float columns.
DF_BOUGHT_QUOTE = 0
DF_BUY_FEES = 1
DF_SOLD_QUOTE = 2
DF_SELL_FEES = 3
DF_AVG = 4
DF_BASE_PRICE = 5
DF_PEAK = 6
DF_RESERVED = 7  # what the deal's working buys reserve
DF_MAX_COMMITTED = 8
DF_BASE_OPEN = 9  # the open the base order filled at (before slippage)
N_DF = 10

# Bot scalars: int.
B_ORDERS = 0  # used order rows
B_DEALS = 1  # length of the deal list
B_NEXT_SEQ = 2
B_LAST_CLOSED = 3
B_HAS_LAST = 4
B_FILLS = 5
B_RECORDS = 6
B_HELD = 7  # lots held by all open deals
B_MARKETS = 8  # working market orders of the bot
B_WORKING = 9  # working orders (rows minus dead ones)
B_PLACED = 10  # orders placed so far
B_UNDECIDED = 11  # decisions float64 could not take like the reference (see rounding)
N_BI = 12
# Bot scalars: float.
BF_REALIZED = 0
BF_OPEN_COST = 1  # bought quote + buy fees of the open deals
BF_MAX_COMMITTED = 2
N_BF = 3

# Fills: int columns.
F_TIME = 0
F_SIDE = 1
F_PURPOSE = 2
F_SEQ = 3
F_LOTS = 4
F_NUMBER = 5
F_LEVEL = 6
F_CYCLE = 7
F_TICKS = 8  # price before slippage in ticks when it is a limit or trigger, else -1
N_FI = 9
# Fills: float columns.
FF_PRICE = 0
FF_QUOTE = 1
FF_FEE = 2
FF_RAW = 3  # price before slippage (the candle's open or the order's own price)
N_FF = 4

# Deal records: int columns.
R_SEQ = 0
R_OPENED = 1
R_CLOSED = 2  # -1 while open
R_REASON = 3  # -1 while open
R_SAFETY = 4
R_ADDS = 5
R_LEVEL = 6  # -1 for signal deals
R_STATE = 7  # R_OPEN, R_CLOSED_STATE or R_DISCARDED
R_LOTS = 8  # lots bought
N_RI = 9
# Deal records: float columns.
RF_BOUGHT_QUOTE = 0
RF_BUY_FEES = 1
RF_SOLD_QUOTE = 2
RF_SELL_FEES = 3
RF_PNL = 4
RF_MAX_COMMITTED = 5
N_RF = 6

R_OPEN = 0
R_CLOSED_STATE = 1
R_DISCARDED = 2

# Parameters: int.
PI_SAFETY_COUNT = 0
PI_COOLDOWN = 1  # cooldown_seconds - candle_seconds: compared with the candle's open time
PI_MAX_DEALS = 2
PI_ENTRY = 3
PI_SIGNAL_EXIT = 4
PI_BELOW_AVG = 5
PI_TP_ON = 6
PI_SL_ON = 7
PI_TRAILING_ON = 8
PI_BASE_OK = 9  # the base order passes the exchange's checks
PI_ADD_OK = 10  # signal adds are on and the add order passes them
PI_MIN_LOTS = 11  # smallest lot count >= base_min_size
PI_TF = 12
PI_SLIP_ON = 13
PI_PRICE_NUM = 14  # price increment = PRICE_NUM / PRICE_DEN
PI_PRICE_DEN = 15
PI_BASE_NUM = 16
PI_BASE_DEN = 17
PI_RUN = 18  # id of the run's exact context (``exact``)
PI_COMPOUND = 19  # realised profits raise what the bot may commit
N_PI = 20
# Parameters: float.
PF_BUDGET = 0
PF_BASE_QUOTE = 1
PF_ADD_QUOTE = 2
PF_CAP = 3
PF_TP_FACTOR = 4  # 1 + take_profit_pct / 100
PF_SL_FACTOR = 5  # 1 - stop_loss_pct / 100
PF_TRAIL_FACTOR = 6  # 1 - trailing_deviation_pct / 100
PF_EXIT_FACTOR = 7  # 1 + exit_min_profit_pct / 100
PF_TAKER = 8
PF_MAKER = 9
PF_SLIP_BUY = 10  # 1 + slippage
PF_SLIP_SELL = 11  # 1 - slippage
PF_QUOTE_MIN = 12
PF_TAKER_FACTOR = 13  # 1 + taker
PF_TAKER_KEEP = 14  # 1 - taker: what a market sell keeps
N_PF = 15

# Grid levels: int columns.
G_TICKS = 0
G_LOTS = 1  # base a buy at the level gets
G_BUY_OK = 2  # that buy passes the exchange's checks
G_SELL_OK = 3  # its sell one level up passes them
N_GI = 4
# Grid levels: float columns.
GF_PRICE = 0
GF_COST = 1  # gross + maker fee of the level's buy
N_GF = 2
