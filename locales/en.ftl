menu-title = What would you like to create? Pick a category.
category-image = 🖼 Images
category-video = 🎬 Video
category-audio = 🎵 Audio
button-balance = 💰 Balance
button-history = 🕘 History
button-help = ❓ Help
button-back = ⬅️ Back
button-cancel = ✖️ Cancel
button-open-params = ⚙️ Set parameters
button-params-done = ➡️ Continue
category-pick-title = { $category }: choose a model. Prices are in credits per generation.
model-button = { $title } · { $price } cr
model-pick-title = { $title } — { $price } { $price ->
        [one] credit
       *[other] credits
    } per generation.
    { $description }
model-flux-pro-description = Photorealistic images with fine detail.
model-sdxl-description = Fast, versatile images in several styles.
model-veo-fast-description = Short video clips from a text description.
model-kling-description = Smooth motion video clips.
model-suno-description = Songs and music from a text description.
params-title = { $title }: parameters
params-prompt-missing = ✍️ Send your prompt as a message (up to { $max } characters).
params-prompt = Prompt: { $prompt }
params-option = { $name }: { $value }
option-aspect = Aspect ratio
option-style = Style
option-duration = Duration
option-length = Length
value-aspect-1x1 = 1:1
value-aspect-16x9 = 16:9
value-aspect-9x16 = 9:16
value-style-photo = Photo
value-style-anime = Anime
value-style-art = Art
value-duration-5 = 5 s
value-duration-10 = 10 s
value-length-30 = 30 s
value-length-120 = 2 min
confirm-title = Check your order: { $title }, { $price } { $price ->
        [one] credit
       *[other] credits
    }.
help-text = Tracegram creates images, video and audio with AI models.
    /start — main menu
    /help — this help
    /promo CODE — redeem a promo code
    /paysupport — help with a payment
    Pick a category, a model, send a prompt, set the options and confirm.
history-title = 🕘 Your generations, page { $page }:
history-empty = 🕘 No generations yet. Pick a category in the menu to make your first.
history-line = { $n }. { $status } { $title } · { $price } cr · { $time }{ $refunded }
history-status-queued = ⏳
history-status-running = ⏳
history-status-submitted = ⏳
history-status-delivering = ⏳
history-status-delivered = ✅
history-status-failed = ❌
history-status-undeliverable = ⚠️
history-refunded = {" "}· refunded
history-open = { $n }. { $title }
history-job-open = Still being generated: the result arrives here.
history-result-gone = This result can no longer be sent again.
button-repeat = 🔁 Repeat
repeat-model-gone = This model is no longer offered: pick another in the menu.
repeat-already-queued = Already queued: the result arrives here.
job-failed-undelivered = The { $title } result could not be delivered: the bot was blocked in this chat. Your { $price } { $price ->
        [one] credit was
       *[other] credits were
    } refunded. Support code: { $cid }
text-outside-form = Use the buttons, or send /start for the main menu.
non-text-message = I can only read text here. Use the buttons, or send /start for the main menu.
unknown-command = I don't know that command. Send /start for the main menu.
nothing-to-cancel = Nothing to cancel.
option-unchanged = Already selected.
prompt-empty = The prompt is empty: send some text describing what to create.
prompt-too-long = The prompt is too long: { $max } characters at most.
prompt-required = Send a prompt first.
reply-noop = Nothing to do.
reply-passive = The bot is restarting, try again in a few seconds.
reply-unknown-action = This button is not recognised. Send /start for a fresh menu.
reply-state-mismatch = This button is outdated. Use the latest message or send /start.
reply-expired = This message is too old. Send /start for a fresh menu.
reply-validation-failed = That value is not valid here.
reply-rate-limit = Too many requests, please wait a minute.
reply-downstream-timeout = The service is slow to answer, please try again. Support code: { $cid }
reply-db-error = We could not save your progress, please try again in a moment. Support code: { $cid }
reply-internal-error = Something went wrong on our side. Please try again; if it repeats, tell support this code: { $cid }
credits = { $count ->
        [one] { $count } credit
       *[other] { $count } credits
    }
balance-title = 💰 Balance: { $credits }
balance-held = ⏳ { $credits } set aside for generations in progress.
balance-topup = Top up with Telegram Stars:
balance-referral = 🎁 Invite friends: { $link }
    You get { $credits } for each new user who starts the bot by your link.
balance-promo = Have a promo code? Send /promo CODE.
topup-button = { $stars } ⭐ → { $credits }
invoice-description = { $credits } for generations in Tracegram.
invoice-sent = 🧾 The invoice for { $stars } ⭐ ({ $credits }) is below: tap Pay.
payment-received = ✅ Payment received: +{ $credits }.
paysupport-text = Payment support
    Something wrong with a payment? Write to us here: the date, the amount in Stars, and the support code if the bot showed one. We answer within a day and refund Stars for credits you have not used.
    Telegram's own support cannot help with purchases made in this bot.
promo-usage = Send the code after the command, e.g. /promo WELCOME.
promo-redeemed = 🎁 Promo code accepted: +{ $credits }. Balance: { $balance }.
refund-usage = Usage: /refund <telegram_payment_charge_id>
refund-done = Refunded { $stars } ⭐; { $credits } taken back from the user's balance.
refund-unknown = No payment with that charge id.
refund-already = That payment was refunded already.
refund-spent = Not refunded: the payment gave { $credits } and the user has { $balance } left.
newpromo-usage = Usage: /newpromo CODE CREDITS USES [DAYS] (CODE: 3-32 of A-Z, 0-9, _ and -)
newpromo-done = Promo code { $code }: { $credits } credits, up to { $uses } uses.
reply-unknown-package = This top-up is no longer offered. Open Balance for the current ones.
reply-payment-mismatch = This invoice no longer matches our prices. Open Balance and try again; you were not charged.
reply-user-blocked = Payments are not available for this account. Send /paysupport if you think this is a mistake.
reply-refund-refused = The refund was not made.
reply-promo-unknown = There is no such promo code.
reply-promo-expired = This promo code has expired.
reply-promo-exhausted = This promo code has been used up.
reply-promo-already-used = You have already used this promo code.
reply-payment-unmatched = We received your payment but could not match it to a top-up. Send /paysupport with this code: { $cid }
command-start = Main menu
command-help = Help
command-promo = Redeem a promo code
command-paysupport = Help with a payment
job-queued = ⏳ { $title }: queued. Your result arrives here.
job-result-caption = { $title }
job-failed-provider = The { $title } generation failed at the provider. Your { $price } { $price ->
        [one] credit was
       *[other] credits were
    } refunded. Support code: { $cid }
job-failed-timeout = The { $title } generation took too long and was cancelled. Your { $price } { $price ->
        [one] credit was
       *[other] credits were
    } refunded. Support code: { $cid }
job-failed-internal = The { $title } generation failed on our side. Your { $price } { $price ->
        [one] credit was
       *[other] credits were
    } refunded. Support code: { $cid }
reply-insufficient-funds = Not enough credits for this generation. Top up your balance first.
reply-provider-error = The generation service failed, please try again. Support code: { $cid }
button-generate = ✨ Generate · { $price } cr
button-top-up = 💰 Top up
button-menu = 🏠 Menu
