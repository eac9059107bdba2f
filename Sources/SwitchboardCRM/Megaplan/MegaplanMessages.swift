import Foundation

extension Megaplan {
    /// Russian for what the Megaplan connector writes in English and the cabinet shows (the connection test, access
    /// errors, what a request was for, settings problems).
    public static let messages: [(String, String)] = [
        ("connection works, account {}, {} employees", "подключение работает: аккаунт {1}, сотрудников: {2}"),
        ("the Megaplan credentials have no login and password", "в учётных данных Мегаплан нет логина и пароля"),
        ("Megaplan refused the login and password ({})", "Мегаплан не принял логин и пароль ({1})"),
        ("Megaplan's token endpoint answered {}", "Мегаплан ответил {1} на запрос токена"),
        ("Megaplan's request limit (429) while trying to {}", "Мегаплан ограничил частоту запросов (429) при попытке {1}"),
        ("Megaplan refused a fresh access token while trying to {}: {}", "Мегаплан не принял новый токен доступа при попытке {1}: {2}"),
        ("Megaplan answered {} while trying to {}: {}", "Мегаплан ответил {1} при попытке {2}: {3}"),
        ("Megaplan refused to {} ({}): {}", "Мегаплан отказался {1} ({2}): {3}"),
        ("count the employees", "посчитать сотрудников"), ("list the employees", "получить список сотрудников"),
        ("read the telephony settings", "прочитать настройки телефонии"),
        ("add the virtual numbers whose calls go to Megaplan", "добавьте виртуальные номера, звонки на которые передаются в Мегаплан"),
        ("choose a Megaplan employee or none", "выберите сотрудника Мегаплан или оставьте поле пустым"),
        ("choose the Megaplan field for {}", "укажите поле Мегаплан для {1}"),
        ("choose the calls that create a communication", "выберите звонки, по которым создаётся коммуникация"),
        ("the duration is 1 to 10080 minutes", "длительность — от 1 до 10080 минут"),
        ("choose the calls that create a todo", "выберите звонки, по которым создаётся дело"),
        ("choose the calls that create a process", "выберите звонки, по которым создаётся процесс"),
        ("choose the Megaplan scheme for the processes", "выберите схему процессов Мегаплан"),
        ("a Megaplan employee id is a number", "ID сотрудника Мегаплан — число"),
        ("a Megaplan scheme id is a number", "ID схемы Мегаплан — число"),
        ("the responsible is a Megaplan employee id, client, or empty for the default responsible",
         "ответственный — ID сотрудника Мегаплан, ответственный за клиента или пусто (ответственный по умолчанию)"),
        ("add {} to texts.chats.alsoAt, or chats never reach Megaplan at that moment",
         "добавьте {1} в texts.chats.alsoAt, иначе чаты не попадут в Мегаплан в этот момент"),
        ("Megaplan's text options cannot be read: {}", "настройки текстовых коммуникаций Мегаплан не читаются: {1}"),
        ("create the client", "создать клиента"), ("create the todo", "создать дело"), ("create the process", "создать процесс"),
        ("write the request on the client", "записать заявку в клиента"),
        ("read the changed deal", "прочитать изменённую сделку"), ("read the deal's client", "прочитать клиента сделки"),
    ]
}
