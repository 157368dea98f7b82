menu-title = Что создадим? Выберите категорию.
category-image = 🖼 Картинки
category-video = 🎬 Видео
category-audio = 🎵 Аудио
button-balance = 💰 Баланс
button-history = 🕘 История
button-help = ❓ Помощь
button-back = ⬅️ Назад
button-cancel = ✖️ Отмена
button-open-params = ⚙️ Параметры
button-params-done = ➡️ Далее
category-pick-title = { $category }: выберите модель. Цены в кредитах за генерацию.
model-button = { $title } · { $price } кр
model-pick-title = { $title } — { $price } { $price ->
        [one] кредит
        [few] кредита
       *[many] кредитов
    } за генерацию.
    { $description }
model-flux-pro-description = Фотореалистичные изображения с высокой детализацией.
model-sdxl-description = Быстрые изображения в нескольких стилях.
model-veo-fast-description = Короткие видео по текстовому описанию.
model-kling-description = Видео с плавным движением.
model-suno-description = Песни и музыка по текстовому описанию.
params-title = { $title }: параметры
params-prompt-missing = ✍️ Отправьте описание сообщением (до { $max } символов).
params-prompt = Описание: { $prompt }
params-option = { $name }: { $value }
option-aspect = Соотношение сторон
option-style = Стиль
option-duration = Длительность
option-length = Длина
value-aspect-1x1 = 1:1
value-aspect-16x9 = 16:9
value-aspect-9x16 = 9:16
value-style-photo = Фото
value-style-anime = Аниме
value-style-art = Арт
value-duration-5 = 5 с
value-duration-10 = 10 с
value-length-30 = 30 с
value-length-120 = 2 мин
confirm-title = Проверьте заказ: { $title }, { $price } { $price ->
        [one] кредит
        [few] кредита
       *[many] кредитов
    }.
help-text = Tracegram создаёт картинки, видео и аудио с помощью ИИ-моделей.
    /start — главное меню
    /help — эта справка
    /promo КОД — активировать промокод
    /paysupport — помощь с оплатой
    Выберите категорию, модель, отправьте описание, задайте параметры и подтвердите.
history-title = 🕘 Ваши генерации, страница { $page }:
history-empty = 🕘 Генераций пока нет. Выберите категорию в меню, чтобы создать первую.
history-line = { $n }. { $status } { $title } · { $price } кр · { $time }{ $refunded }
history-status-queued = ⏳
history-status-running = ⏳
history-status-submitted = ⏳
history-status-delivering = ⏳
history-status-delivered = ✅
history-status-failed = ❌
history-status-undeliverable = ⚠️
history-refunded = {" "}· возвращено
history-open = { $n }. { $title }
history-job-open = Ещё генерируется: результат придёт сюда.
history-result-gone = Этот результат больше нельзя отправить повторно.
button-repeat = 🔁 Повторить
repeat-model-gone = Эта модель больше не предлагается: выберите другую в меню.
repeat-already-queued = Уже в очереди: результат придёт сюда.
job-failed-undelivered = Результат { $title } не удалось доставить: бот был заблокирован в этом чате. Возвращено { $price } { $price ->
        [one] кредит
        [few] кредита
       *[many] кредитов
    }. Код для поддержки: { $cid }
text-outside-form = Пользуйтесь кнопками или отправьте /start для главного меню.
non-text-message = Здесь я понимаю только текст. Пользуйтесь кнопками или отправьте /start для главного меню.
unknown-command = Такой команды нет. Отправьте /start для главного меню.
nothing-to-cancel = Нечего отменять.
option-unchanged = Уже выбрано.
prompt-empty = Описание пустое: напишите, что нужно создать.
prompt-too-long = Описание слишком длинное: не больше { $max } символов.
prompt-required = Сначала отправьте описание.
reply-noop = Ничего не изменилось.
reply-passive = Бот перезапускается, попробуйте через несколько секунд.
reply-unknown-action = Кнопка не распознана. Отправьте /start для нового меню.
reply-state-mismatch = Эта кнопка устарела. Используйте последнее сообщение или отправьте /start.
reply-expired = Сообщение слишком старое. Отправьте /start для нового меню.
reply-validation-failed = Это значение здесь недопустимо.
reply-rate-limit = Слишком много запросов, подождите минуту.
reply-downstream-timeout = Сервис отвечает медленно, попробуйте ещё раз. Код для поддержки: { $cid }
reply-db-error = Не удалось сохранить ваш прогресс, попробуйте через минуту. Код для поддержки: { $cid }
reply-internal-error = Что-то пошло не так на нашей стороне. Попробуйте ещё раз; если повторится, сообщите в поддержку код: { $cid }
credits = { $count ->
        [one] { $count } кредит
        [few] { $count } кредита
       *[many] { $count } кредитов
    }
balance-title = 💰 Баланс: { $credits }
balance-held = ⏳ { $credits } зарезервировано под идущие генерации.
balance-topup = Пополнить звёздами Telegram:
balance-referral = 🎁 Пригласите друзей: { $link }
    Вы получите { $credits } за каждого нового пользователя, который запустит бота по вашей ссылке.
balance-promo = Есть промокод? Отправьте /promo КОД.
topup-button = { $stars } ⭐ → { $credits }
invoice-description = { $credits } для генераций в Tracegram.
invoice-sent = 🧾 Счёт на { $stars } ⭐ ({ $credits }) ниже: нажмите «Оплатить».
payment-received = ✅ Оплата получена: +{ $credits }.
paysupport-text = Поддержка по платежам
    Что-то не так с оплатой? Напишите нам здесь: дату, сумму в звёздах и код для поддержки, если бот его показал. Мы отвечаем в течение дня и возвращаем звёзды за неиспользованные кредиты.
    Поддержка Telegram не может помочь с покупками в этом боте.
promo-usage = Отправьте код после команды, например: /promo WELCOME.
promo-redeemed = 🎁 Промокод принят: +{ $credits }. Баланс: { $balance }.
refund-usage = Использование: /refund <telegram_payment_charge_id>
refund-done = Возвращено { $stars } ⭐; { $credits } списано с баланса пользователя.
refund-unknown = Платежа с таким charge id нет.
refund-already = Этот платёж уже возвращён.
refund-spent = Не возвращено: платёж дал { $credits }, а у пользователя осталось { $balance }.
newpromo-usage = Использование: /newpromo КОД КРЕДИТЫ ИСПОЛЬЗОВАНИЙ [ДНЕЙ] (КОД: 3–32 символа A-Z, 0-9, _ и -)
newpromo-done = Промокод { $code }: { $credits } кредитов, до { $uses } использований.
reply-unknown-package = Такого пополнения больше нет. Откройте «Баланс», чтобы увидеть актуальные.
reply-payment-mismatch = Счёт больше не совпадает с нашими ценами. Откройте «Баланс» и попробуйте снова; деньги не списаны.
reply-user-blocked = Платежи для этого аккаунта недоступны. Отправьте /paysupport, если это ошибка.
reply-refund-refused = Возврат не выполнен.
reply-promo-unknown = Такого промокода нет.
reply-promo-expired = Срок действия промокода истёк.
reply-promo-exhausted = Промокод больше не действует: использования закончились.
reply-promo-already-used = Вы уже использовали этот промокод.
reply-payment-unmatched = Мы получили оплату, но не смогли сопоставить её с пополнением. Отправьте /paysupport с этим кодом: { $cid }
command-start = Главное меню
command-help = Справка
command-promo = Активировать промокод
command-paysupport = Помощь с оплатой
job-queued = ⏳ { $title }: в очереди. Результат придёт сюда.
job-result-caption = { $title }
job-failed-provider = Генерация { $title } не удалась у провайдера. Возвращено { $price } { $price ->
        [one] кредит
        [few] кредита
       *[many] кредитов
    }. Код для поддержки: { $cid }
job-failed-timeout = Генерация { $title } заняла слишком много времени и отменена. Возвращено { $price } { $price ->
        [one] кредит
        [few] кредита
       *[many] кредитов
    }. Код для поддержки: { $cid }
job-failed-internal = Генерация { $title } не удалась по нашей вине. Возвращено { $price } { $price ->
        [one] кредит
        [few] кредита
       *[many] кредитов
    }. Код для поддержки: { $cid }
reply-insufficient-funds = Недостаточно кредитов для этой генерации. Сначала пополните баланс.
reply-provider-error = Сервис генерации не справился, попробуйте ещё раз. Код для поддержки: { $cid }
button-generate = ✨ Создать · { $price } кр
button-top-up = 💰 Пополнить
button-menu = 🏠 Меню
